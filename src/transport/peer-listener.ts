/**
 * The peer port (client port + 10000, like Redis's cluster bus): accepts connections from
 * other nodes, authenticates them with the cluster secret (peer-auth.ts), then runs PEER.*
 * commands through the handler table the replication layer provides. Client connections
 * never reach these handlers: they live on another port with another command table.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { DurabilityListener } from '../storage/engine.js';
import { RequestDecoder } from '../protocol/request-decoder.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { ReplyQueue, writeChunks, type ReplySegment } from '../server/reply-queue.js';
import { readSocket } from '../util/socket-reads.js';
import { clientProof, newNonce, proofsEqual, serverProof } from './peer-auth.js';

/** What a PEER.* handler sees of the connection it runs on. */
export interface PeerSession extends DurabilityListener {
  /** Id of the authenticated peer. */
  readonly peerId: string;
  readonly writer: ReplyWriter;
  hold(): unknown;
}

export type PeerHandler = (session: PeerSession, args: Buffer[], out: ReplyWriter) => void;

export interface PeerListenerOptions {
  host: string;
  port: number;
  selfId: string;
  cluster: string;
  secret: string;
  bulkBytesMax: number;
  handlers: ReadonlyMap<string, PeerHandler>;
  logger: Logger;
}

export class PeerListener {
  private server: Server | null = null;
  private readonly sessions = new Set<PeerConnection>();

  constructor(private readonly options: PeerListenerOptions) {}

  async listen(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => {
      const session = new PeerConnection(socket, this.options, () => this.sessions.delete(session));
      this.sessions.add(session);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  get boundPort(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

class PeerConnection implements PeerSession {
  peerId = '';
  private readonly decoder: RequestDecoder;
  private readonly queue: ReplyQueue;
  private stage: 'hello' | 'prove' | 'ready' = 'hello';
  private clientNonce: Buffer | null = null;
  private serverNonce: Buffer | null = null;
  private claimedId = '';
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: PeerListenerOptions,
    private readonly onClose: () => void,
  ) {
    this.decoder = new RequestDecoder({ bulkBytesMax: options.bulkBytesMax });
    this.decoder.authRequired = true;
    this.queue = new ReplyQueue((chunks) => {
      if (!this.closed) writeChunks(socket, chunks);
    }, () => undefined);
    readSocket(socket, (chunk) => this.onData(chunk));
    socket.on('error', () => this.onPeerClosed());
    socket.on('close', () => this.onPeerClosed());
  }

  get writer(): ReplyWriter {
    return this.queue.writer;
  }

  hold(): unknown {
    return this.queue.hold();
  }

  durable(token: unknown, error: Error | null): void {
    if (this.closed) return;
    if (error === null) this.queue.release(token as ReplySegment);
    else this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onClose();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      const args = this.decoder.next();
      if (args === null) {
        if (this.decoder.error !== null) {
          this.options.logger.warn({ reason: this.decoder.error }, 'peer protocol error');
          this.destroy();
        }
        break;
      }
      if (args.length === 0) continue;
      if (this.stage !== 'ready') this.authenticate(args);
      else this.dispatch(args);
      if (this.closed) return;
    }
    this.queue.endOfInput();
  }

  private dispatch(args: Buffer[]): void {
    // Peers send names in upper case: only another spelling pays for a second string.
    let name = (args[0] as Buffer).latin1Slice();
    let handler = this.options.handlers.get(name);
    if (handler === undefined) {
      name = name.toUpperCase();
      handler = this.options.handlers.get(name);
    }
    const out = this.queue.writer;
    if (handler === undefined) {
      out.error(`ERR unknown peer command '${name}'`);
      return;
    }
    try {
      handler(this, args, out);
    } catch (error) {
      this.options.logger.error({ err: error, command: name }, 'peer command failed');
      out.error('ERR internal error');
    }
  }

  /** The two handshake steps; anything else before them closes the connection. */
  private authenticate(args: Buffer[]): void {
    const name = (args[0] as Buffer).latin1Slice().toUpperCase();
    const { cluster, secret, selfId } = this.options;
    if (this.stage === 'hello' && name === 'PEER.HELLO' && args.length === 4) {
      if ((args[1] as Buffer).toString() !== cluster) return this.refuse('another cluster');
      this.claimedId = (args[2] as Buffer).toString();
      this.clientNonce = Buffer.from(args[3] as Buffer);
      this.serverNonce = newNonce();
      const out = this.queue.writer;
      out.arrayHeader(3);
      out.bulkString(selfId);
      out.bulk(this.serverNonce);
      out.bulk(serverProof(secret, cluster, this.clientNonce, this.serverNonce, selfId));
      this.stage = 'prove';
      return;
    }
    if (this.stage === 'prove' && name === 'PEER.PROVE' && args.length === 2) {
      const expected = clientProof(secret, cluster, this.serverNonce as Buffer,
        this.clientNonce as Buffer, this.claimedId);
      if (!proofsEqual(args[1] as Buffer, expected)) return this.refuse('wrong cluster secret');
      this.peerId = this.claimedId;
      this.stage = 'ready';
      this.decoder.authRequired = false;
      this.queue.writer.ok();
      return;
    }
    this.refuse(`unexpected ${name} before authentication`);
  }

  /**
   * The connection ended. Between our proof and the peer's, the peer checked our proof and
   * hung up: it holds another cluster secret. Logged as a refusal, so a misconfigured node
   * shows in the cluster's logs and not only in its own.
   */
  private onPeerClosed(): void {
    if (!this.closed && this.stage === 'prove') {
      this.refuse('the peer ended the handshake (a different cluster secret?)');
      return;
    }
    this.destroy();
  }

  private refuse(reason: string): void {
    this.options.logger.warn({ addr: this.socket.remoteAddress, reason },
      'refused a peer connection');
    this.destroy();
  }
}
