/**
 * One outbound, pipelined, authenticated connection to a peer's peer port (DESIGN.md
 * section 6). Requests are RESP arrays; replies are decoded with redis-parser and matched to
 * requests in order. The requests of one event-loop turn leave in one socket write, at the
 * turn's end (runtime/turn-end.ts).
 * In-flight requests are bounded: past the bound a request fails at once (the coordinator
 * then treats the replica as unavailable) instead of queueing without limit.
 */
import type { Socket } from 'node:net';
import RedisParser from 'redis-parser';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';
import { atTurnEnd } from '../runtime/turn-end.js';
import { connectReading } from '../util/socket-reads.js';
import { clientProof, newNonce, proofsEqual, serverProof } from './peer-auth.js';

export type PeerReply = Buffer | number | null | PeerReply[];
export type PeerCallback = (error: Error | null, reply: PeerReply) => void;

export interface PeerClientOptions {
  selfId: string;
  cluster: string;
  secret: string;
  inflightMax: number;
  logger: Logger;
  clock: Clock;
  /** Delay before reconnecting after a failure (grows up to 10x). */
  reconnectDelayMs: number;
  /** A link whose peer answers nothing this long while requests wait is dropped. */
  stallTimeoutMs: number;
}

export class PeerError extends Error {
  override name = 'PeerError';
}

const RECONNECT_BACKOFF_MAX = 10;
const OUTPUT_BYTES_MIN = 4096;

export class PeerClient {
  private socket: Socket | null = null;
  private parser: RedisParser | null = null;
  private authenticated = false;
  /** Callbacks of requests sent, in order; replies come back in the same order. */
  private readonly pending: PeerCallback[] = [];
  /** Requests waiting for the handshake. */
  private readonly waiting: Array<{ bytes: Buffer; callback: PeerCallback }> = [];
  /** Requests of this turn, encoded, in output[0, outputLength). */
  private output = Buffer.allocUnsafe(OUTPUT_BYTES_MIN);
  private outputLength = 0;
  private flushScheduled = false;
  private failures = 0;
  private reconnectAt = 0;
  /** Monotonic ms of the link's last sign of life: connecting, a reply, leaving idle. */
  private lastProgressMs = 0;
  private closed = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    readonly peerId: string,
    private host: string,
    private port: number,
    private readonly options: PeerClientOptions,
  ) {}

  /** The peer moved (new announce address): later connections go there. */
  setAddress(host: string, port: number): void {
    if (host === this.host && port === this.port) return;
    this.host = host;
    this.port = port;
    this.disconnect(new PeerError('peer address changed'));
  }

  get inflight(): number {
    return this.pending.length + this.waiting.length;
  }

  get connected(): boolean {
    return this.authenticated;
  }

  send(args: ReadonlyArray<Buffer | string>, callback: PeerCallback): void {
    if (this.closed) return callback(new PeerError('peer client closed'), null);
    if (this.inflight >= this.options.inflightMax) {
      return callback(new PeerError(`too many requests in flight to ${this.peerId}`), null);
    }
    if (this.inflight === 0) this.lastProgressMs = this.options.clock.monotonicMs();
    if (this.authenticated) {
      this.pending.push(callback);
      this.queueRequest(args);
      return;
    }
    // Encoded now: the caller may reuse its argument Buffers (a read's record bytes) before
    // the handshake lets the request leave.
    const bytes = encodeRequest(args);
    if (this.options.clock.monotonicMs() < this.reconnectAt) {
      return callback(new PeerError(`peer ${this.peerId} unreachable`), null);
    }
    this.waiting.push({ bytes, callback });
    if (this.socket === null) this.open();
  }

  close(): void {
    this.closed = true;
    this.disconnect(new PeerError('peer client closed'));
  }

  /**
   * Drops the link when requests have waited `stallTimeoutMs` without any reply (called
   * every gossip round). A network that silently drops packets leaves TCP retransmitting
   * with exponential backoff: after a partition of seconds healed, the old connection
   * stayed stuck for seconds more (minutes after a long one) while a new one works at once.
   */
  checkStalled(nowMs: number): void {
    if (this.socket === null || this.inflight === 0) return;
    const silentMs = nowMs - this.lastProgressMs;
    if (silentMs < this.options.stallTimeoutMs) return;
    this.options.logger.warn({ peer: this.peerId, silentMs }, 'peer link stalled; reconnecting');
    // No backoff: the peer may answer a new connection at once (a paused process resumed),
    // and the stall timeout already spaces the attempts.
    this.disconnect(new PeerError(`peer ${this.peerId} answered nothing for ${silentMs} ms`),
      false);
  }

  /**
   * The peer reached us (its gossip arrived), so it is up: the next request reconnects at
   * once instead of failing until the backoff from its outage ends.
   */
  retryNow(): void {
    if (this.socket !== null) return;
    this.failures = 0;
    this.reconnectAt = 0;
  }

  private open(): void {
    this.lastProgressMs = this.options.clock.monotonicMs();
    // Events of a socket already dropped are ignored: its late 'close' must not tear down
    // the connection that replaced it (reconnects can now follow a stall at once). No read
    // can arrive before connectReading returns, so the handler may name `socket`.
    const current = (): boolean => this.socket === socket;
    const socket: Socket = connectReading({ host: this.host, port: this.port }, (chunk) => {
      if (current()) this.parser?.execute(chunk);
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.parser = new RedisParser({
      returnBuffers: true,
      returnReply: (reply: PeerReply) => this.onReply(null, reply),
      returnError: (error: Error) => this.onReply(error, null),
      returnFatalError: (error: Error) => this.disconnect(error),
    });
    socket.on('error', (error) => {
      if (current()) this.disconnect(error);
    });
    socket.on('close', () => {
      if (current()) this.disconnect(new PeerError(`connection to ${this.peerId} closed`));
    });
    socket.once('connect', () => {
      if (current()) this.handshake();
    });
  }

  private handshake(): void {
    const clientNonce = newNonce();
    const { selfId, cluster, secret } = this.options;
    this.pending.push((error, reply) => {
      if (error !== null || !Array.isArray(reply) || reply.length !== 3) {
        return this.disconnect(error ?? new PeerError('bad handshake reply'));
      }
      const [serverId, serverNonce, given] = reply as [Buffer, Buffer, Buffer];
      const expected = serverProof(secret, cluster, clientNonce, serverNonce, serverId.toString());
      // An empty expected id (a seed address) accepts whichever member answers.
      const unexpected = this.peerId !== '' && serverId.toString() !== this.peerId;
      if (!proofsEqual(given, expected) || unexpected) {
        this.options.logger.warn({ peer: this.peerId }, 'peer failed authentication; refused');
        return this.disconnect(new PeerError('peer failed authentication'));
      }
      this.pending.push((proveError) => {
        if (proveError !== null) return this.disconnect(proveError);
        this.onAuthenticated();
      });
      this.queueRequest(['PEER.PROVE',
        clientProof(secret, cluster, serverNonce, clientNonce, selfId)]);
    });
    this.queueRequest(['PEER.HELLO', cluster, selfId, clientNonce]);
  }

  private onAuthenticated(): void {
    this.authenticated = true;
    this.failures = 0;
    const waiting = this.waiting.splice(0);
    for (const request of waiting) {
      this.pending.push(request.callback);
      this.queue(request.bytes);
    }
  }

  private onReply(error: Error | null, reply: PeerReply): void {
    this.lastProgressMs = this.options.clock.monotonicMs();
    const callback = this.pending.shift();
    if (callback === undefined) {
      this.disconnect(new PeerError('unexpected reply from peer'));
      return;
    }
    callback(error, reply);
  }

  private queue(bytes: Buffer): void {
    this.reserve(bytes.length);
    this.outputLength += bytes.copy(this.output, this.outputLength);
    this.scheduleFlush();
  }

  /** Encodes a request straight into the turn's output (no buffer per request). */
  private queueRequest(args: ReadonlyArray<Buffer | string>): void {
    this.reserve(encodedSize(args));
    this.outputLength = encodeInto(args, this.output, this.outputLength);
    this.scheduleFlush();
  }

  private reserve(bytes: number): void {
    if (this.outputLength + bytes <= this.output.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.output.length * 2, this.outputLength + bytes));
    this.output.copy(grown, 0, 0, this.outputLength);
    this.output = grown;
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      atTurnEnd(this.flushBound);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (socket === null || this.outputLength === 0) return;
    // The socket may hold on to what it is given: the next turn's requests go to a new
    // buffer, sized after this one.
    const bytes = this.output.subarray(0, this.outputLength);
    this.output = Buffer.allocUnsafe(Math.max(OUTPUT_BYTES_MIN, this.outputLength));
    this.outputLength = 0;
    socket.write(bytes);
  }

  /**
   * Drops the connection, failing every request in flight; the next send reconnects, after
   * a delay growing with consecutive failures when `backoff`.
   */
  private disconnect(error: Error, backoff = true): void {
    const socket = this.socket;
    if (socket === null && this.pending.length === 0 && this.waiting.length === 0) return;
    this.socket = null;
    this.parser = null;
    this.authenticated = false;
    this.outputLength = 0;
    socket?.destroy();
    if (!this.closed && backoff) {
      this.failures = Math.min(this.failures + 1, RECONNECT_BACKOFF_MAX);
      this.reconnectAt = this.options.clock.monotonicMs() +
        this.options.reconnectDelayMs * this.failures;
    }
    const callbacks = this.pending.splice(0);
    const waiting = this.waiting.splice(0);
    for (const callback of callbacks) callback(error, null);
    for (const request of waiting) request.callback(error, null);
  }
}

export function encodeRequest(args: ReadonlyArray<Buffer | string>): Buffer {
  const bytes = Buffer.allocUnsafe(encodedSize(args));
  return bytes.subarray(0, encodeInto(args, bytes, 0));
}

/** An upper bound of a request's encoded size (headers counted at 16 bytes). */
function encodedSize(args: ReadonlyArray<Buffer | string>): number {
  let size = 16;
  for (const arg of args) {
    size += (typeof arg === 'string' ? Buffer.byteLength(arg) : arg.length) + 16;
  }
  return size;
}

/** Writes a request as a RESP array of bulk strings at `offset`; returns the end offset. */
function encodeInto(args: ReadonlyArray<Buffer | string>, bytes: Buffer, offset: number): number {
  offset = writeHeader(bytes, offset, 42, args.length);
  for (const arg of args) {
    if (typeof arg === 'string') {
      const length = Buffer.byteLength(arg);
      offset = writeHeader(bytes, offset, 36, length);
      offset += bytes.write(arg, offset, length, 'utf8');
    } else {
      offset = writeHeader(bytes, offset, 36, arg.length);
      offset += arg.copy(bytes, offset);
    }
    bytes[offset++] = 13;
    bytes[offset++] = 10;
  }
  return offset;
}

/** `<marker><count>\r\n` for a non-negative count. */
function writeHeader(bytes: Buffer, offset: number, marker: number, count: number): number {
  bytes[offset++] = marker;
  if (count < 10) {
    bytes[offset++] = 48 + count;
  } else {
    offset += bytes.write(String(count), offset, 'latin1');
  }
  bytes[offset++] = 13;
  bytes[offset++] = 10;
  return offset;
}
