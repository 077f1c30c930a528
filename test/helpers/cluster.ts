/**
 * Real multi-process RingKV clusters for integration and fault tests (STYLE.md section 10):
 * N nodes on free ports, each in its own temporary directory, every node seeded with every
 * node's address and gossiping every 200 ms. `startCluster` returns once every node knows
 * all N members and answers byte-identical CLUSTER SLOTS. Each node can be stopped, killed,
 * paused, resumed and restarted on its own directory; `Cluster.stop` ends every process the
 * cluster started and removes the directories.
 */
import RedisParser from 'redis-parser';
import { rmSync } from 'node:fs';
import { parseInfo } from './clients.js';
import { freePort } from './ports.js';
import { startNode, temporaryDirectory, type ServerProcess } from './processes.js';
import { RespClient } from './resp-client.js';
import { waitFor } from './wait.js';

/** A decoded RESP2 reply; error replies come back as Error values, not exceptions. */
export type Reply = string | number | null | Error | Reply[];

export const CLUSTER_SECRET = 'cluster-test-secret';
/**
 * Short, so forming and detecting take about a second, yet long enough that a node whose
 * event loop stalls half a second on a loaded machine is not taken for dead (the detector
 * convicts after roughly five intervals of silence).
 */
export const GOSSIP_INTERVAL_MS = 200;
/** Forming, rejoining, detecting: generous for loaded CI machines, still well under 60 s. */
export const CLUSTER_WAIT_MS = 20_000;
const QUERY_TIMEOUT_MS = 5000;
/** Attempts at forming a cluster when another test's process took one of its ports. */
const PORT_ATTEMPTS = 3;

/**
 * The port was free when chosen, but a process of another test file (they run in
 * parallel) bound it first: the node failed to start, or another server answered there.
 */
export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

export interface ClusterOptions {
  nodes: number;
  /** Extra arguments for every node (`--request-timeout 500`, ...). */
  args?: readonly string[];
  gossipIntervalMs?: number;
  secret?: string;
  /**
   * Per node: the address it binds, announces and is probed at (default 127.0.0.1 for all,
   * with the node's own default bind).
   */
  hosts?: readonly string[];
  /** Per node: a command prefix that runs it (e.g. `ip netns exec <ns>`). */
  launcher?: (index: number) => readonly string[];
  /** Per node: arguments after the common ones (`--cluster-node-id`, say). */
  nodeArgs?: (index: number) => readonly string[];
}

export class ClusterNode {
  /** The current process (null before the first start). */
  server: ServerProcess | null = null;
  /** The node id (CLUSTER MYID), known after the first start. */
  id = '';
  private paused = false;
  private readonly earlierOutput: string[] = [];

  constructor(
    readonly index: number,
    readonly host: string,
    readonly port: number,
    readonly dir: string,
    private readonly args: readonly string[],
    private readonly launcher: readonly string[],
  ) {}

  /** `host:port`, as seeds and CLUSTER SLOTS name it. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Started, not exited and not paused: it answers. */
  get running(): boolean {
    return this.alive && !this.paused;
  }

  /** Its process exists (it may be paused). */
  get alive(): boolean {
    const child = this.server?.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the node on its port and directory; waits for PONG and learns its id. */
  async start(): Promise<void> {
    if (this.server !== null) this.earlierOutput.push(this.server.output());
    this.paused = false;
    try {
      this.server = await startNode({ port: this.port, dir: this.dir, args: [...this.args],
        host: this.host, launcher: this.launcher });
    } catch (error) {
      if (/EADDRINUSE/.test((error as Error).message)) {
        throw new PortTakenError(`port ${this.port} or ${this.port + 10000} is taken`);
      }
      throw error;
    }
    const info = parseInfo(expectString(await this.call('INFO', 'server'), 'INFO'));
    if (info.get('process_id') !== String(this.server.process.pid)) {
      await this.server.stop();
      throw new PortTakenError(`another server answers on port ${this.port}`);
    }
    const id = await this.call('CLUSTER', 'MYID');
    if (typeof id !== 'string' || !/^[0-9a-f]{40}$/.test(id)) {
      throw new Error(`node ${this.address} answered CLUSTER MYID with ${String(id)}`);
    }
    this.id = id;
  }

  /** SIGSTOP: the process keeps its sockets but answers nothing. */
  pause(): void {
    this.server?.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.server?.signal('SIGCONT');
    this.paused = false;
  }

  /** kill -9, then wait for the exit. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.server?.signal('SIGKILL');
    await this.server?.exited();
  }

  /** Graceful stop (SIGCONT, SIGTERM, wait). */
  async stop(): Promise<void> {
    await this.server?.stop();
    this.paused = false;
  }

  /** Stops the node if it is alive, then starts it again on the same port and directory. */
  async restart(): Promise<void> {
    if (this.alive) await this.stop();
    await this.start();
  }

  /** Everything the node wrote, over all its runs. */
  output(): string {
    return [...this.earlierOutput, this.server?.output() ?? ''].join('');
  }

  /** Sends one command on a fresh connection and decodes the reply. */
  async call(...args: Array<string | Buffer>): Promise<Reply> {
    return decodeReply(await this.raw(...args));
  }

  /** Sends one command on a fresh connection and returns the reply's exact bytes. */
  async raw(...args: Array<string | Buffer>): Promise<Buffer> {
    const client = await RespClient.connect(this.port, this.host);
    try {
      client.send(...args);
      const [reply] = await client.replies(1, QUERY_TIMEOUT_MS);
      return reply as Buffer;
    } finally {
      client.close();
    }
  }

  /** A connection that keeps its state (CONSISTENCY, SELECT) across calls. */
  async session(): Promise<Session> {
    return new Session(await RespClient.connect(this.port, this.host));
  }

  /** CLUSTER INFO fields. */
  async clusterInfo(): Promise<Map<string, string>> {
    return parseInfo(expectString(await this.call('CLUSTER', 'INFO'), 'CLUSTER INFO'));
  }

  /** INFO ringkv fields: hints, anti-entropy, repair, streaming, read repairs. */
  async ringkvInfo(): Promise<Map<string, string>> {
    return parseInfo(expectString(await this.call('INFO', 'ringkv'), 'INFO ringkv'));
  }

  /** CLUSTER NODES, one parsed line per member. */
  async clusterNodes(): Promise<NodesLine[]> {
    return parseClusterNodes(expectString(await this.call('CLUSTER', 'NODES'), 'CLUSTER NODES'));
  }
}

/** One RESP2 connection to a node; replies decoded, errors returned as Error values. */
export class Session {
  constructor(private readonly client: RespClient) {}

  async call(...args: Array<string | Buffer>): Promise<Reply> {
    this.client.send(...args);
    const [reply] = await this.client.replies(1, QUERY_TIMEOUT_MS);
    return decodeReply(reply as Buffer);
  }

  /** Like `call`, and also how long the reply took, in milliseconds. */
  async timed(...args: Array<string | Buffer>): Promise<{ reply: Reply; elapsedMs: number }> {
    const startedMs = performance.now();
    const reply = await this.call(...args);
    return { reply, elapsedMs: performance.now() - startedMs };
  }

  close(): void {
    this.client.close();
  }
}

export interface WaitOptions {
  /** The nodes that should be members (default: every node the cluster started). */
  members?: readonly ClusterNode[];
  /** Also require every running member to see every member alive (no fail flags). */
  healthy?: boolean;
  timeoutMs?: number;
}

export class Cluster {
  /** Milliseconds from starting the processes to a converged cluster. */
  formedInMs = 0;

  constructor(
    readonly nodes: ClusterNode[],
    readonly options: Required<Pick<ClusterOptions, 'gossipIntervalMs' | 'secret'>> &
      ClusterOptions,
  ) {}

  node(index: number): ClusterNode {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`no node ${index}`);
    return node;
  }

  /** The seed list every node was started with. */
  get seeds(): string {
    return this.nodes.slice(0, this.options.nodes).map((node) => node.address).join(',');
  }

  /**
   * Waits until every running member reports cluster_state:ok and cluster_known_nodes equal
   * to the number of members, and all of them answer byte-identical CLUSTER SLOTS (with
   * `healthy`, also until none of them flags any member as failing).
   */
  async waitConverged(options: WaitOptions = {}): Promise<void> {
    const members = options.members ?? this.nodes;
    await waitFor(`${members.length} members to converge`, async () => {
      const running = members.filter((node) => node.running);
      const slots = new Set<string>();
      for (const node of running) {
        const info = await node.clusterInfo();
        if (info.get('cluster_state') !== 'ok') return undefined;
        if (info.get('cluster_known_nodes') !== String(members.length)) return undefined;
        slots.add((await node.raw('CLUSTER', 'SLOTS')).toString('hex'));
        if (options.healthy === true) {
          const lines = await node.clusterNodes();
          if (lines.some((line) => line.flags.includes('fail') || line.flags.includes('fail?'))) {
            return undefined;
          }
        }
      }
      return slots.size === 1 ? true : undefined;
    }, options.timeoutMs ?? CLUSTER_WAIT_MS, 25);
  }

  /** Waits until every running node other than `node` flags it as failed (fail). */
  async waitFailed(node: ClusterNode, timeoutMs = CLUSTER_WAIT_MS): Promise<void> {
    await waitFor(`${node.address} to be seen as failed`, async () => {
      for (const other of this.nodes) {
        if (other === node || !other.running) continue;
        const line = (await other.clusterNodes()).find((entry) => entry.id === node.id);
        if (line === undefined || !line.flags.includes('fail')) return undefined;
      }
      return true;
    }, timeoutMs, 10);
  }

  /**
   * Starts one more node on a fresh port and directory: seeded with the cluster's addresses,
   * or (`seeded: false`) in cluster mode on its own, to join by CLUSTER MEET. Extra `args`
   * come last, so they can override the cluster's (a different secret, say).
   */
  async addNode(options: { seeded?: boolean; args?: readonly string[] } = {}):
      Promise<ClusterNode> {
    const index = this.nodes.length;
    const host = this.options.hosts?.[index] ?? '127.0.0.1';
    const membership = options.seeded === false ? ['--cluster-enabled', 'yes']
      : ['--cluster-seeds', this.seeds];
    const node = new ClusterNode(index, host, await freePort(),
      temporaryDirectory('ringkv-cluster'),
      [...membership, ...commonArgs(this.options, host), ...(options.args ?? [])],
      this.options.launcher?.(index) ?? []);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  /** Stops every process (SIGCONT first, so paused ones stop too) and removes the dirs. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    for (const node of this.nodes) rmSync(node.dir, { recursive: true, force: true });
  }
}

function commonArgs(options: Cluster['options'], host: string): string[] {
  const hostArgs = options.hosts === undefined ? []
    : ['--bind', host, '--cluster-announce-ip', host, '--protected-mode', 'no'];
  return ['--cluster-secret', options.secret,
    '--cluster-gossip-interval', String(options.gossipIntervalMs), ...hostArgs,
    ...(options.args ?? [])];
}

/**
 * Starts `nodes` nodes seeded with each other and waits until they form one cluster (on
 * fresh ports again if another test's process took one of them meanwhile).
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

async function startClusterOnce(options: ClusterOptions): Promise<Cluster> {
  const settings = { gossipIntervalMs: GOSSIP_INTERVAL_MS, secret: CLUSTER_SECRET, ...options };
  const ports: number[] = [];
  for (let index = 0; index < options.nodes; index++) ports.push(await freePort());
  const hostOf = (index: number): string => options.hosts?.[index] ?? '127.0.0.1';
  const seeds = ports.map((port, index) => `${hostOf(index)}:${port}`).join(',');
  const nodes = ports.map((port, index) => new ClusterNode(index, hostOf(index), port,
    temporaryDirectory('ringkv-cluster'),
    ['--cluster-seeds', seeds, ...commonArgs(settings, hostOf(index)),
      ...(options.nodeArgs?.(index) ?? [])],
    options.launcher?.(index) ?? []));
  const cluster = new Cluster(nodes, settings);
  const startedMs = Date.now();
  try {
    const started = await Promise.allSettled(nodes.map((node) => node.start()));
    const failure = started.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
    await cluster.waitConverged();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  cluster.formedInMs = Date.now() - startedMs;
  return cluster;
}

// Replies -----------------------------------------------------------------------------------

export function decodeReply(bytes: Buffer): Reply {
  const replies: Reply[] = [];
  const parser = new RedisParser({
    returnReply: (reply: Reply) => replies.push(reply),
    returnError: (error: Error) => replies.push(error),
  });
  parser.execute(bytes);
  if (replies.length !== 1) throw new Error(`expected one reply, got ${replies.length}`);
  return replies[0] as Reply;
}

export function expectString(reply: Reply, what: string): string {
  if (typeof reply !== 'string') throw new Error(`${what}: expected a string, got ${show(reply)}`);
  return reply;
}

export function expectArray(reply: Reply, what: string): Reply[] {
  if (!Array.isArray(reply)) throw new Error(`${what}: expected an array, got ${show(reply)}`);
  return reply;
}

function show(reply: Reply): string {
  return reply instanceof Error ? `error ${reply.message}` : JSON.stringify(reply);
}

/** A RESP2 map (flat array of alternating names and values) as an object. */
export function pairs(reply: Reply, what: string): Map<string, Reply> {
  const items = expectArray(reply, what);
  const map = new Map<string, Reply>();
  for (let index = 0; index + 1 < items.length; index += 2) {
    map.set(expectString(items[index] as Reply, what), items[index + 1] as Reply);
  }
  return map;
}

export interface NodesLine {
  id: string;
  /** `ip:port@busport` */
  address: string;
  flags: string[];
  master: string;
  epoch: string;
  link: string;
  /** Slot ranges as `[start, end]`. */
  slots: Array<[number, number]>;
  fields: string[];
}

export function parseClusterNodes(text: string): NodesLine[] {
  return text.split('\n').filter((line) => line !== '').map((line) => {
    const fields = line.split(' ');
    const slots = fields.slice(8).map((range): [number, number] => {
      const [start, end] = range.split('-').map(Number) as [number, number?];
      return [start, end ?? start];
    });
    return {
      id: fields[0] ?? '', address: fields[1] ?? '', flags: (fields[2] ?? '').split(','),
      master: fields[3] ?? '', epoch: fields[6] ?? '', link: fields[7] ?? '', slots, fields,
    };
  });
}
