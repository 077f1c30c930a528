/**
 * The write workload of the cluster fault tests: several ioredis clients, each connected to
 * one of the nodes that stay up, each writing unique keys and incrementing its own counter
 * at QUORUM, one command at a time, every operation recorded in a History (history.ts).
 * After the fault healed, `verify` reads every key at CONSISTENCY ALL (which also read-repairs
 * stale replicas) and checks that no acknowledged write is lost (checkers.ts).
 */
import assert from 'node:assert/strict';
import { counterFloors, lostWrites } from './checkers.js';
import { connectIoredis, disconnectAll, type TestRedis } from './clients.js';
import type { ClusterNode, Session } from './cluster.js';
import { History } from './history.js';
import { waitFor } from './wait.js';

/** Keys read per MGET when checking. */
const CHECK_BATCH = 200;
/** Every fourth command of a client is an INCR of its counter. */
const INCR_EVERY = 4;

export interface VerifyReport {
  acknowledgedWrites: number;
  acknowledgedIncrements: number;
}

export class WriteWorkload {
  readonly history = new History();
  private stopping = false;
  private runs: Array<Promise<void>> = [];

  private constructor(private readonly clients: TestRedis[], private readonly prefix: string) {}

  /** Connects `clientsPerNode` clients to each node and starts writing. */
  static async start(nodes: readonly ClusterNode[], clientsPerNode: number, prefix: string):
      Promise<WriteWorkload> {
    const clients: TestRedis[] = [];
    for (let round = 0; round < clientsPerNode; round++) {
      for (const node of nodes) clients.push(await connectIoredis(node.port, { host: node.host }));
    }
    const workload = new WriteWorkload(clients, prefix);
    workload.runs = clients.map((client, process) => workload.run(client, process));
    return workload;
  }

  /** Operations acknowledged so far. */
  get acknowledged(): number {
    return this.history.counts().ok;
  }

  /** Waits until `more` further operations are acknowledged. */
  async progress(more: number, timeoutMs = 20_000): Promise<void> {
    const target = this.acknowledged + more;
    await waitFor(`${more} more acknowledged operations (at ${this.acknowledged})`,
      () => (this.acknowledged >= target ? true : undefined), timeoutMs);
  }

  /**
   * Stops after the commands in flight; then every client error is a test failure, except
   * errors matching `tolerated.errors` up to `tolerated.shareMax` of all operations (a
   * refused write is not acknowledged, so `verify` still holds it to nothing lost). Returns
   * the tolerated errors.
   */
  async stop(tolerated: { errors: RegExp; shareMax: number } | null = null):
      Promise<string[]> {
    this.stopping = true;
    await Promise.all(this.runs);
    disconnectAll(this.clients);
    const operations = this.history.operations;
    const failed = operations.filter((operation) => operation.outcome !== 'ok');
    const excusable = tolerated === null ? [] : failed.filter((operation) =>
      tolerated.errors.test(operation.error ?? ''));
    const excused = tolerated !== null &&
      excusable.length <= tolerated.shareMax * operations.length ? excusable : [];
    const unexcused = failed.filter((operation) => !excused.includes(operation));
    const describe = (operation: (typeof operations)[number]): string =>
      `${operation.kind} ${operation.key}: ${operation.error ?? 'pending'}`;
    assert.deepEqual(unexcused.slice(0, 5).map(describe), [],
      `${unexcused.length} operations did not succeed`);
    return excused.map(describe);
  }

  private counterKey(process: number): string {
    return `${this.prefix}:p${process}:counter`;
  }

  private async run(client: TestRedis, process: number): Promise<void> {
    for (let sequence = 0; !this.stopping; sequence++) {
      if (sequence % INCR_EVERY === INCR_EVERY - 1) {
        await this.history.record(process, 'incr', this.counterKey(process), null,
          () => client.incr(this.counterKey(process)), (reply) => String(reply));
      } else {
        const key = `${this.prefix}:p${process}:k${sequence}`;
        const value = `v${sequence}:${process}`;
        await this.history.record(process, 'write', key, value, () => client.set(key, value),
          () => value);
      }
    }
  }

  /**
   * Reads every written key and counter at CONSISTENCY ALL through `session` (read repair
   * then brings stale replicas up to date) and checks: no acknowledged write lost, every
   * counter at least its highest acknowledged value and at most its INCRs sent.
   */
  async verify(session: Session): Promise<VerifyReport> {
    assert.equal(await session.call('CONSISTENCY', 'ALL'), 'OK');
    const keys = [...new Set(this.history.operations
      .filter((operation) => operation.kind === 'write').map((operation) => operation.key))];
    const finalValues = await readAll(session, keys);
    const report = lostWrites(this.history, finalValues);
    assert.deepEqual(report.lost.slice(0, 10), [],
      `${report.lost.length} of ${report.acknowledged} acknowledged writes lost`);
    const sent = new Map<string, number>();
    for (const operation of this.history.operations) {
      if (operation.kind === 'incr') sent.set(operation.key, (sent.get(operation.key) ?? 0) + 1);
    }
    let increments = 0;
    for (const [key, floor] of counterFloors(this.history)) {
      const final = Number(await session.call('GET', key));
      assert.ok(final >= floor && final <= (sent.get(key) ?? 0),
        `${key} is ${final}: acknowledged up to ${floor}, ${sent.get(key)} INCRs sent`);
      increments += floor;
    }
    return { acknowledgedWrites: report.acknowledged, acknowledgedIncrements: increments };
  }

  /** Keys of acknowledged writes (to check replicas one by one). */
  writtenKeys(): Map<string, string> {
    const written = new Map<string, string>();
    for (const operation of this.history.operations) {
      if (operation.kind === 'write' && operation.outcome === 'ok') {
        written.set(operation.key, operation.value as string);
      }
    }
    return written;
  }
}

/** Values of `keys` through a session, in MGET batches (with the session's levels). */
export async function readAll(session: Session, keys: readonly string[]):
    Promise<Map<string, string | null>> {
  const values = new Map<string, string | null>();
  for (let start = 0; start < keys.length; start += CHECK_BATCH) {
    const batch = keys.slice(start, start + CHECK_BATCH);
    const reply = await session.call('MGET', ...batch);
    assert.ok(Array.isArray(reply), `MGET failed: ${String(reply)}`);
    batch.forEach((key, index) => values.set(key, reply[index] as string | null));
  }
  return values;
}
