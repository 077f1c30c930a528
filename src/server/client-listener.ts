/**
 * Accepts client connections on the client port, enforces maxclients (with Redis's exact
 * error), and keeps the registry of connected clients that CLIENT LIST / KILL and INFO use.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Limits } from '../config/limits.js';
import type { ClientRegistry, ServerContext } from '../commands/context.js';
import type { Client } from '../commands/spec.js';
import { errors } from '../protocol/errors.js';
import { Connection } from './connection.js';

export interface ClientListenerOptions {
  host: string[];
  /** Bind addresses that may be unavailable (redis.conf `-::1`): failing to bind is fine. */
  optionalHosts: string[];
  port: number;
  backlog: number;
  limits: Limits;
  logger: Logger;
  isLoading(): boolean;
  recordError(prefix: string): void;
  /** Bytes to send a client that may not connect (protected mode), or null to admit it. */
  refusal(socket: Socket): string | null;
  /** tcp-keepalive in seconds (0: off). */
  keepAliveSeconds(): number;
}

export class ClientListener implements ClientRegistry {
  private readonly connections = new Map<number, Connection>();
  private readonly servers: Server[] = [];
  private nextId = 1;
  private context: ServerContext | null = null;

  constructor(private readonly options: ClientListenerOptions) {}

  get connectedCount(): number {
    return this.connections.size;
  }

  all(): Client[] {
    return [...this.connections.values()];
  }

  byId(id: number): Client | undefined {
    return this.connections.get(id);
  }

  kill(client: Client): void {
    this.connections.get(client.id)?.destroy();
  }

  /** Starts listening on every bind address; resolves when all listen. */
  async listen(context: ServerContext): Promise<void> {
    this.context = context;
    let port = this.options.port;
    for (const host of this.options.host) {
      const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host, port, backlog: this.options.backlog }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        if (this.options.optionalHosts.includes(host)) continue;
        throw error;
      }
      this.servers.push(server);
      // With port 0 every address must share the port the first one got.
      if (port === 0) port = this.boundPort;
    }
    if (this.servers.length === 0) throw new Error('could not bind any address');
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  get boundPort(): number {
    const address = this.servers[0]?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Stops accepting new clients; existing ones stay until closeAll. */
  async stopAccepting(): Promise<void> {
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => {
      server.close(() => resolve());
    })));
  }

  /** Stops reading requests; each client closes once its pending replies are sent. */
  stopReading(): void {
    for (const connection of this.connections.values()) connection.closeAfterReply();
  }

  closeAll(): void {
    for (const connection of this.connections.values()) connection.destroy();
  }

  /** True while some client still waits for a reply (a write not yet durable). */
  get hasPendingReplies(): boolean {
    for (const connection of this.connections.values()) {
      if (connection.hasPendingReplies) return true;
    }
    return false;
  }

  /** Closes clients idle longer than `timeoutSeconds` (redis.conf timeout). */
  closeIdle(timeoutSeconds: number, nowMs: number): void {
    if (timeoutSeconds <= 0) return;
    for (const connection of this.connections.values()) {
      if (nowMs - connection.lastInteractionMs > timeoutSeconds * 1000 &&
          !connection.hasPendingReplies) {
        connection.destroy();
      }
    }
  }

  private accept(socket: Socket): void {
    const context = this.context;
    if (context === null) {
      socket.destroy();
      return;
    }
    context.stats.connectionsReceived++;
    if (this.connections.size >= this.options.limits.clientsMax) {
      context.stats.rejectedConnections++;
      refuse(socket, `-${errors.maxClients}\r\n`);
      return;
    }
    const refusal = this.options.refusal(socket);
    if (refusal !== null) {
      context.stats.rejectedConnections++;
      refuse(socket, refusal);
      return;
    }
    const keepAliveSeconds = this.options.keepAliveSeconds();
    if (keepAliveSeconds > 0) socket.setKeepAlive(true, keepAliveSeconds * 1000);
    const id = this.nextId++;
    const connection = new Connection(id, socket, context, this.options.limits, {
      onClose: (closed) => this.connections.delete(closed.id),
      isLoading: this.options.isLoading,
      recordError: this.options.recordError,
    }, this.options.logger);
    this.connections.set(id, connection);
  }
}

/**
 * Sends a refusal and closes the socket outright once it is written: waiting for the
 * client to close too would keep the socket (and shutdown) open if the client never reads.
 */
function refuse(socket: Socket, message: string): void {
  socket.on('error', () => socket.destroy());
  socket.end(message, () => socket.destroy());
}
