/**
 * One client connection: decodes requests from the socket, dispatches them in order, and
 * sends their replies in request order through a ReplyQueue. Replies ready during a turn of
 * the event loop wait in the connection's outbox and leave at the end of the turn, one
 * socket write per connection (runtime/turn-end.ts says why). Backpressure: reading pauses
 * while too many replies wait to be sent or the socket holds too many unsent bytes, and
 * resumes when they drain.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { PIPELINE_DEPTH_MAX, REPLY_BACKPRESSURE_BYTES, type Limits } from '../config/limits.js';
import { dispatch, type DispatchTarget } from '../commands/dispatch.js';
import type { ServerContext, UserAccess } from '../commands/context.js';
import { RequestDecoder } from '../protocol/request-decoder.js';
import { ReplyWriter, type Protocol } from '../protocol/reply-writer.js';
import { ReplyQueue, writeChunks, type ReplySegment } from './reply-queue.js';
import type { Consistency } from '../coordinator/consistency.js';
import { atTurnEnd } from '../runtime/turn-end.js';
import { readSocket } from '../util/socket-reads.js';

export interface ConnectionHooks {
  onClose(connection: Connection): void;
  isLoading(): boolean;
  recordError(prefix: string): void;
}

/** The slot token of a deferred reply the client asked not to receive (CLIENT REPLY). */
const SUPPRESSED = Symbol('suppressed reply');

export class Connection implements DispatchTarget {
  db = 0;
  name = '';
  libName = '';
  libVersion = '';
  user = 'default';
  /** The ACL user behind `user`; ACL SETUSER changes it in place. */
  access: UserAccess;
  authenticated: boolean;
  private mode: 'on' | 'off' | 'skip' = 'on';
  consistency: Consistency;
  noEvict = false;
  noTouch = false;
  lastCommand = 'NULL';
  lastInteractionMs: number;
  readonly createdMs: number;
  readonly remoteAddress: string;
  readonly localAddress: string;

  private readonly decoder: RequestDecoder;
  private readonly queue: ReplyQueue;
  /** Swallows replies while CLIENT REPLY is OFF or SKIP. */
  private readonly silentWriter = new ReplyWriter(256);
  private skipNext = false;
  private closing = false;
  private closed = false;
  private paused = false;
  /** Replies released this turn, written at its end (`writeOutbox`); null when none. */
  private outbox: Buffer[] | null = null;
  private outboxBytes = 0;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    readonly server: ServerContext,
    private readonly limits: Limits,
    private readonly hooks: ConnectionHooks,
    private readonly logger: Logger,
  ) {
    this.createdMs = server.clock.nowMs();
    this.lastInteractionMs = this.createdMs;
    this.authenticated = !server.auth.required;
    this.access = server.auth.access(this.user);
    this.consistency = { ...server.defaultConsistency(this.user) };
    this.remoteAddress = formatAddress(socket.remoteAddress, socket.remotePort);
    this.localAddress = formatAddress(socket.localAddress, socket.localPort);
    this.decoder = new RequestDecoder(limits);
    this.decoder.authRequired = !this.authenticated;
    this.queue = new ReplyQueue((chunks) => this.send(chunks), hooks.recordError);
    socket.setNoDelay(true);
    readSocket(socket, (chunk) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.onClose());
    socket.on('close', () => this.onClose());
  }

  /** CLIENT REPLY. Turning replies on also cancels a pending SKIP, as in Redis. */
  get replyMode(): 'on' | 'off' | 'skip' {
    return this.mode;
  }

  set replyMode(mode: 'on' | 'off' | 'skip') {
    this.mode = mode;
    if (mode === 'on') this.skipNext = false;
  }

  get protocol(): Protocol {
    return this.queue.protocol;
  }

  set protocol(value: Protocol) {
    this.queue.protocol = value;
    this.silentWriter.protocol = value;
  }

  get serverLoading(): boolean {
    return this.hooks.isLoading();
  }

  /** The writer for the running command's reply (honours CLIENT REPLY OFF / SKIP). */
  get writer(): ReplyWriter {
    return this.replyWriter();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get hasPendingReplies(): boolean {
    return !this.closed && (this.queue.hasPending || this.outbox !== null);
  }

  /** Unconsumed input bytes (CLIENT LIST qbuf). */
  get queryBufferBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /** Reply bytes not yet handed to the socket plus bytes the socket still holds. */
  get outputBytes(): number {
    return this.queue.queuedBytes + this.outboxBytes +
      (this.closed ? 0 : this.socket.writableLength);
  }

  replyWriter(): ReplyWriter {
    if (this.replyMode === 'on' && !this.skipNext) return this.queue.writer;
    return this.silentWriter;
  }

  afterCommand(): void {
    if (this.mode === 'skip') {
      // CLIENT REPLY SKIP itself replied nothing; the next command is the one skipped.
      this.mode = 'on';
      this.skipNext = true;
    } else if (this.skipNext) {
      this.skipNext = false;
    }
    this.silentWriter.discard();
  }

  hold(): unknown {
    return this.queue.hold();
  }

  defer(): unknown {
    if (this.replyMode !== 'on' || this.skipNext) return SUPPRESSED;
    return this.queue.slot();
  }

  deferredWriter(token: unknown): ReplyWriter {
    return token === SUPPRESSED ? this.silentWriter : (token as ReplySegment).writer;
  }

  fill(token: unknown): void {
    if (token === SUPPRESSED) {
      this.silentWriter.discard();
      return;
    }
    if (!this.closed) this.queue.fill(token as ReplySegment);
  }

  durable(token: unknown, error: Error | null): void {
    if (this.closed) return;
    if (error === null) {
      this.queue.release(token as ReplySegment);
      return;
    }
    this.logger.warn({ client: this.id, err: error },
      'closing client: a write whose reply was written could not be made durable');
    this.destroy();
  }

  closeAfterReply(): void {
    this.closing = true;
    this.socket.pause();
  }

  dropAsAttack(): void {
    this.logger.warn({ client: this.id, addr: this.remoteAddress },
      'possible SECURITY ATTACK detected: HTTP-looking command on the Redis port; closed');
    this.destroy();
  }

  /**
   * After AUTH, HELLO AUTH or RESET: the user's permissions and consistency levels (its
   * user-consistency, else the server's) replace the connection's, and the decoder's
   * pre-authentication limits follow.
   */
  setAuthenticated(authenticated: boolean, user: string): void {
    this.authenticated = authenticated;
    this.user = user;
    this.access = this.server.auth.access(user);
    this.consistency = { ...this.server.defaultConsistency(user) };
    this.decoder.authRequired = !authenticated;
  }

  resetState(): void {
    this.db = 0;
    this.protocol = 2;
    this.name = '';
    this.replyMode = 'on';
    this.skipNext = false;
    this.noEvict = false;
    this.noTouch = false;
    this.setAuthenticated(!this.server.auth.required, 'default');
  }

  describe(): string {
    const nowMs = this.server.clock.nowMs();
    const ageSeconds = Math.floor((nowMs - this.createdMs) / 1000);
    const idleSeconds = Math.floor((nowMs - this.lastInteractionMs) / 1000);
    const queryBuffer = this.queryBufferBytes;
    const output = this.outputBytes;
    return `id=${this.id} addr=${this.remoteAddress} laddr=${this.localAddress} ` +
      `fd=${socketFd(this.socket)} name=${this.name} age=${ageSeconds} idle=${idleSeconds} ` +
      `flags=N db=${this.db} sub=0 psub=0 ssub=0 multi=-1 qbuf=${queryBuffer} ` +
      `qbuf-free=${Math.max(0, 16384 - queryBuffer)} argv-mem=0 multi-mem=0 rbs=16384 ` +
      `rbp=16384 obl=0 oll=0 omem=${output} tot-mem=${16384 + queryBuffer + output} ` +
      `events=r cmd=${this.lastCommand} user=${this.user} redir=-1 resp=${this.protocol} ` +
      `lib-name=${this.libName} lib-ver=${this.libVersion}`;
  }

  /** Closes the connection now, dropping unsent replies. */
  destroy(): void {
    if (this.closed) return;
    this.outbox = null;
    this.outboxBytes = 0;
    this.socket.destroy();
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.server.stats.netInputBytes += chunk.length;
    this.decoder.push(chunk);
    if (this.decoder.bufferedBytes > this.limits.queryBufferBytesMax) {
      this.logger.warn({ client: this.id, addr: this.remoteAddress },
        'closing client that reached max query buffer length');
      this.destroy();
      return;
    }
    this.process();
  }

  /** Runs every complete request buffered, unless backpressure asks to stop. */
  private process(): void {
    this.lastInteractionMs = this.server.clock.nowMs();
    let nowMs = performance.now();
    for (;;) {
      if (this.closing || this.closed) break;
      if (this.mustPause()) {
        this.pause();
        break;
      }
      const args = this.decoder.next();
      if (args === null) {
        const error = this.decoder.error;
        if (error !== null) this.protocolError(error);
        break;
      }
      if (args.length === 0) continue;
      nowMs = dispatch(this, args, nowMs);
    }
    if (this.closed) return;
    this.queue.endOfInput();
    this.endIfDone();
  }

  /** A closing connection ends once every reply has been handed to the socket. */
  private endIfDone(): void {
    if (this.closing && !this.queue.hasPending && this.outbox === null) this.socket.end();
  }

  private protocolError(message: string): void {
    this.queue.writer.error(`ERR ${message}`);
    this.logger.debug({ client: this.id, reason: message }, 'protocol error');
    this.closeAfterReply();
  }

  /** Queues released replies for the write at the end of the turn. */
  private send(chunks: Buffer[]): void {
    if (this.closed) return;
    const outbox = this.outbox;
    if (outbox === null) {
      this.outbox = chunks;
      if (connectionsToWrite.length === 0) atTurnEnd(writeOutboxes);
      connectionsToWrite.push(this);
    }
    for (const chunk of chunks) {
      if (outbox !== null) outbox.push(chunk);
      this.outboxBytes += chunk.length;
    }
  }

  /** The end of the turn: the outbox leaves in one socket write. */
  writeOutbox(): void {
    const chunks = this.outbox;
    if (chunks === null || this.closed) return;
    this.outbox = null;
    this.outboxBytes = 0;
    this.server.stats.netOutputBytes += writeChunks(this.socket, chunks);
    if (this.closing) this.endIfDone();
    else if (this.paused) this.maybeResume();
  }

  private mustPause(): boolean {
    // Replies not yet handed to the socket count too: one input chunk of GETs of big values
    // could otherwise build hundreds of megabytes of replies before the first write.
    return this.queue.waitingSegments >= PIPELINE_DEPTH_MAX ||
      this.socket.writableLength + this.outboxBytes + this.queue.writer.length >=
        REPLY_BACKPRESSURE_BYTES;
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.closing || this.closed || this.mustPause()) return;
    this.paused = false;
    this.socket.resume();
    // Requests already buffered do not arrive as new data: process them now.
    this.process();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.hooks.onClose(this);
  }
}

/** Connections whose outbox waits for the end of the turn, in the order they filled it. */
let connectionsToWrite: Connection[] = [];

function writeOutboxes(): void {
  const connections = connectionsToWrite;
  connectionsToWrite = [];
  for (const connection of connections) connection.writeOutbox();
}

function formatAddress(address: string | undefined, port: number | undefined): string {
  if (address === undefined) return '?:0';
  const shown = address.startsWith('::ffff:') ? address.slice(7) : address;
  return shown.includes(':') ? `[${shown}]:${port ?? 0}` : `${shown}:${port ?? 0}`;
}

function socketFd(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
  return handle?.fd ?? -1;
}
