/**
 * A seeded schedule of single faults (kill -9 and restart, SIGSTOP and SIGCONT) on a real
 * 3-node cluster (N = 3) under a recorded workload at QUORUM (R = W = 2), then heal, repair
 * and check the history (Jepsen-style, FAULTS.md):
 *
 * - lost writes: every acknowledged write of a unique key reads back at ALL (must be 0);
 * - read-your-writes and monotonic reads per client on keys it alone writes (R + W > N);
 * - convergence: after CLUSTER REPAIR on every node, each node's own copy of every key
 *   equals the value read at ALL; the time from heal to that point is reported.
 *
 * `npm test` runs a short schedule; `npm run test:soak` runs the same test for longer
 * (FAULT_SECONDS, default there 300). FAULT_SEED replays a schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster, type ClusterNode, type Session } from '../helpers/cluster.js';
import { readAll } from '../helpers/cluster-workload.js';
import { convergence, lostWrites, sessionGuarantees } from '../helpers/checkers.js';
import { describeSchedule, faultSchedule, type Fault } from '../helpers/fault-schedule.js';
import { History } from '../helpers/history.js';
import { waitFor } from '../helpers/wait.js';

const SECONDS = Number(process.env['FAULT_SECONDS'] ?? 14);
const SEED = Number(process.env['FAULT_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
/** Client processes per node. */
const CLIENTS_PER_NODE = 2;
/** Keys each client owns for the session checks (it alone writes them). */
const OWNED_KEYS = 4;
const CONVERGE_WAIT_MS = 60_000;

/** One client: its own connection to one node, reopened after a failure. */
class Client {
  private session: Session | null = null;
  private sequence = 0;
  private readonly counters = new Map<string, number>();

  constructor(readonly process: number, private readonly node: ClusterNode,
    private readonly history: History) {}

  async run(stopping: () => boolean): Promise<void> {
    while (!stopping()) {
      const session = await this.connect();
      if (session === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const ok = await this.step(session);
      if (!ok) this.drop();
    }
    this.drop();
  }

  private async step(session: Session): Promise<boolean> {
    const choice = this.sequence++ % 3;
    let failed = false;
    const call = async (...args: string[]): Promise<unknown> => {
      const reply = await session.call(...args).catch((error: Error) => {
        failed = true;
        throw error;
      });
      if (reply instanceof Error) throw reply;
      return reply;
    };
    if (choice === 0) {
      const key = `sched:p${this.process}:u${this.sequence}`;
      const value = `v${this.sequence}`;
      await this.history.record(this.process, 'write', key, value, () => call('SET', key, value),
        () => value);
    } else {
      const key = `sched:p${this.process}:own${this.sequence % OWNED_KEYS}`;
      if (choice === 1) {
        const next = (this.counters.get(key) ?? 0) + 1;
        this.counters.set(key, next);
        await this.history.record(this.process, 'write', key, String(next),
          () => call('SET', key, String(next)), () => String(next));
      } else {
        await this.history.record(this.process, 'read', key, null, () => call('GET', key),
          (reply) => (reply === null ? null : String(reply)));
      }
    }
    return !failed;
  }

  private async connect(): Promise<Session | null> {
    if (this.session !== null) return this.session;
    if (!this.node.running) return null;
    try {
      const session = await this.node.session();
      await session.call('CONSISTENCY', 'QUORUM');
      this.session = session;
      return session;
    } catch {
      return null;
    }
  }

  private drop(): void {
    this.session?.close();
    this.session = null;
  }
}

async function inject(cluster: Cluster, fault: Fault, startedMs: number): Promise<void> {
  const node = cluster.node(fault.node);
  const until = async (atMs: number): Promise<void> => {
    const wait = startedMs + atMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  };
  await until(fault.atMs);
  if (fault.kind === 'kill') await node.kill();
  else node.pause();
  await until(fault.healAtMs);
  if (fault.kind === 'kill') await node.start();
  else node.resume();
}

test(`a seeded schedule of single faults loses no acknowledged write (${SECONDS} s)`,
  { timeout: (SECONDS + 180) * 1000 }, async (t) => {
    const faults = faultSchedule(SEED, { nodes: 3, durationMs: SECONDS * 1000,
      holdMs: [800, 3000], gapMs: [1500, 3000], kinds: ['kill', 'pause'] });
    t.diagnostic(`seed ${SEED} (replay: FAULT_SEED=${SEED}): ${describeSchedule(faults)}`);
    const cluster = await startCluster({ nodes: 3, args: ['--request-timeout', '1000'] });
    const history = new History();
    let stopping = false;
    const clients: Client[] = [];
    cluster.nodes.forEach((node) => {
      for (let index = 0; index < CLIENTS_PER_NODE; index++) {
        clients.push(new Client(clients.length, node, history));
      }
    });
    const runs = clients.map((client) => client.run(() => stopping));
    try {
      const startedMs = Date.now();
      for (const fault of faults) await inject(cluster, fault, startedMs);
      const rest = startedMs + SECONDS * 1000 - Date.now();
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      stopping = true;
      await Promise.all(runs);

      const healedMs = Date.now();
      await cluster.waitConverged({ healthy: true });
      const counts = history.counts();
      t.diagnostic(`${history.operations.length} operations: ${counts.ok} ok, ` +
        `${counts.fail} failed, ${counts.info} unknown; ${faults.length} faults`);
      assert.ok(counts.ok > 100, 'the workload made progress');

      const checker = await cluster.node(0).session();
      try {
        assert.equal(await checker.call('CONSISTENCY', 'ALL'), 'OK');
        const keys = [...new Set(history.operations.map((operation) => operation.key))];
        const finalValues = await readAll(checker, keys);
        // Unique keys: each acknowledged write must be there. Owned keys are rewritten, so
        // each must hold at least its client's last acknowledged value.
        const unique = new History();
        unique.operations.push(...history.operations.filter((operation) =>
          operation.key.includes(':u')));
        const report = lostWrites(unique, finalValues);
        t.diagnostic(`${report.acknowledged} acknowledged unique writes, ${report.lost.length} ` +
          `lost, ${report.recovered} unknown ones applied`);
        assert.deepEqual(report.lost.slice(0, 10), [], 'no acknowledged write is lost');
        const behind: string[] = [];
        for (const operation of history.operations) {
          if (operation.kind !== 'write' || operation.outcome !== 'ok' ||
              operation.key.includes(':u')) continue;
          if (Number(finalValues.get(operation.key) ?? 0) < Number(operation.value)) {
            behind.push(`${operation.key} < ${operation.value}`);
          }
        }
        assert.deepEqual(behind.slice(0, 5), [], 'owned keys hold their last acknowledged value');
        const violations = sessionGuarantees(history);
        assert.deepEqual(violations.slice(0, 5), [], 'read-your-writes and monotonic reads');

        for (const node of cluster.nodes) await node.call('CLUSTER', 'REPAIR');
        // N = 3 on 3 nodes: every node is a replica of every key, and a read at ONE on a
        // node answers from its own copy.
        await waitFor('every replica to hold the values read at ALL', async () => {
          const replicaValues = new Map<string, Array<string | null>>(
            keys.map((key) => [key, [finalValues.get(key) ?? null]]));
          for (const node of cluster.nodes) {
            if ((await node.ringkvInfo()).get('anti_entropy_running') !== '0') return undefined;
            const own = await node.session();
            try {
              await own.call('CONSISTENCY', 'ONE');
              const values = await readAll(own, keys);
              for (const key of keys) replicaValues.get(key)?.push(values.get(key) ?? null);
            } finally {
              own.close();
            }
          }
          return convergence(replicaValues).diverged.length === 0 ? true : undefined;
        }, CONVERGE_WAIT_MS, 200);
        t.diagnostic(`converged ${Date.now() - healedMs} ms after the last fault healed`);
      } finally {
        checker.close();
      }
    } finally {
      stopping = true;
      await Promise.allSettled(runs);
      await cluster.stop();
    }
  });
