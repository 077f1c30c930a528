/**
 * A fault-injecting TCP proxy for the peer links (FAULTS.md: `tc netem` does not work on
 * these machines): a node announces the proxy's port as its bus port, so every connection
 * other nodes open to it passes through here. Bytes are forwarded in order in both
 * directions after `delayMs` (a slow link); `partition()` cuts every connection and
 * refuses new ones until `heal()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pending {
  dueAtMs: number;
  chunk: Buffer;
}

/** One direction of one connection: chunks leave in arrival order once due. */
class DelayedPipe {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly to: Socket, private readonly delayMs: () => number) {}

  push(chunk: Buffer): void {
    this.queue.push({ dueAtMs: Date.now() + this.delayMs(), chunk });
    this.schedule();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  private schedule(): void {
    if (this.timer !== null || this.queue.length === 0) return;
    const waitMs = Math.max(0, (this.queue[0] as Pending).dueAtMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      const nowMs = Date.now();
      while (this.queue.length > 0 && (this.queue[0] as Pending).dueAtMs <= nowMs) {
        const { chunk } = this.queue.shift() as Pending;
        if (!this.to.destroyed) this.to.write(chunk);
      }
      this.schedule();
    }, waitMs);
  }
}

export class FaultProxy {
  /** Added to every chunk in both directions (applies to bytes arriving from now on). */
  delayMs = 0;
  private partitioned = false;
  private readonly connections = new Set<() => void>();

  private constructor(private readonly server: Server, private readonly targetPort: number,
    private readonly targetHost: string) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, targetPort, targetHost);
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening');
    return address.port;
  }

  /** Cuts every connection through the proxy and refuses new ones. */
  partition(): void {
    this.partitioned = true;
    for (const close of [...this.connections]) close();
  }

  heal(): void {
    this.partitioned = false;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.partitioned) {
      client.destroy();
      return;
    }
    const target = connect(this.targetPort, this.targetHost);
    const toTarget = new DelayedPipe(target, () => this.delayMs);
    const toClient = new DelayedPipe(client, () => this.delayMs);
    const close = (): void => {
      this.connections.delete(close);
      toTarget.stop();
      toClient.stop();
      client.destroy();
      target.destroy();
    };
    this.connections.add(close);
    client.on('data', (chunk: Buffer) => toTarget.push(chunk));
    target.on('data', (chunk: Buffer) => toClient.push(chunk));
    for (const socket of [client, target]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  }
}
