/**
 * kill -9 in the middle of a write stream: every write a client saw acknowledged must be
 * there after a restart on the same directory. With `appendfsync always` the reply waits
 * for fdatasync; with `everysec` it waits for the commit-log write(2), which a process
 * crash cannot undo (power loss could, and is not tested here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectIoredis, disconnectAll, type TestRedis } from '../helpers/clients.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const WRITERS = 4;
/** Commands each writer keeps in flight (pipelined on its connection). */
const IN_FLIGHT = 16;
/** Acknowledged writes to collect before the kill, so it lands mid-stream. */
const ACKS_BEFORE_KILL = 4000;
const CHECK_BATCH = 1000;

/** What one writer saw acknowledged. */
interface WriterLog {
  /** key -> value of every acknowledged SET (not deleted since). */
  sets: Map<string, string>;
  /** Keys whose DEL was acknowledged: they must stay deleted. */
  deleted: Set<string>;
  /** Highest value an acknowledged INCR of the writer's counter returned. */
  counterAcked: number;
  /** INCRs sent (acknowledged or not): the counter cannot exceed it. */
  counterSent: number;
  stoppedBy: Error | null;
}

function counterKey(writer: number): string {
  return `crash:w${writer}:counter`;
}

/**
 * Writes unique keys and increments one counter as fast as the connection allows, with
 * IN_FLIGHT commands outstanding, until a command fails (the node died).
 */
async function runWriter(client: TestRedis, writer: number, log: WriterLog): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (log.stoppedBy === null) {
      const sequence = next++;
      try {
        if (sequence % 4 === 3) {
          log.counterSent++;
          const value = await client.incr(counterKey(writer));
          log.counterAcked = Math.max(log.counterAcked, value);
        } else if (sequence % 16 === 2 && log.sets.size > 0) {
          // Delete an acknowledged key: a crash must not bring it back.
          const victim = log.sets.keys().next().value as string;
          log.sets.delete(victim);
          await client.del(victim);
          log.deleted.add(victim);
        } else {
          const key = `crash:w${writer}:k${sequence}`;
          const value = `v${sequence}-${'x'.repeat(sequence % 64)}`;
          await client.set(key, value);
          log.sets.set(key, value);
        }
      } catch (error) {
        log.stoppedBy ??= error as Error;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

function acknowledged(logs: readonly WriterLog[]): number {
  return logs.reduce((sum, log) => sum + log.sets.size + log.deleted.size + log.counterAcked,
    0);
}

async function checkAcknowledged(port: number, logs: readonly WriterLog[]): Promise<void> {
  const client = await connectIoredis(port);
  try {
    for (const [writer, log] of logs.entries()) {
      const entries = [...log.sets.entries()];
      for (let start = 0; start < entries.length; start += CHECK_BATCH) {
        const batch = entries.slice(start, start + CHECK_BATCH);
        const values = await client.mget(...batch.map(([key]) => key));
        const lost = batch.filter(([, value], index) => values[index] !== value);
        assert.deepEqual(lost.slice(0, 5), [],
          `${lost.length} acknowledged SETs of writer ${writer} lost or changed ` +
          `(of ${entries.length}), e.g. ${JSON.stringify(lost.slice(0, 3))}`);
      }
      const deleted = [...log.deleted];
      for (let start = 0; start < deleted.length; start += CHECK_BATCH) {
        const batch = deleted.slice(start, start + CHECK_BATCH);
        const values = await client.mget(...batch);
        const back = batch.filter((_, index) => values[index] !== null);
        assert.deepEqual(back.slice(0, 5), [],
          `${back.length} keys of writer ${writer} came back after an acknowledged DEL`);
      }
      const counter = Number(await client.get(counterKey(writer)) ?? 0);
      assert.ok(counter >= log.counterAcked,
        `writer ${writer}: counter ${counter} < acknowledged ${log.counterAcked}`);
      assert.ok(counter <= log.counterSent,
        `writer ${writer}: counter ${counter} > INCRs sent ${log.counterSent}`);
    }
  } finally {
    client.disconnect();
  }
}

/** How the node is stopped mid-stream, and what happens before the final restart. */
interface Scenario {
  appendfsync: 'always' | 'everysec';
  signal: 'SIGKILL' | 'SIGTERM';
  /**
   * Kill the first restart too, as soon as it answers PING (it has just replayed the
   * commit log into LMDB and started a new log), then restart again.
   */
  killAfterRecovery: boolean;
}

async function crashAndRecover(scenario: Scenario): Promise<void> {
  const args = ['--appendfsync', scenario.appendfsync];
  const node = await startNode({ args });
  const clients: TestRedis[] = [];
  const restarts: ServerProcess[] = [];
  try {
    for (let writer = 0; writer < WRITERS; writer++) {
      clients.push(await connectIoredis(node.port, { protocol: writer % 2 === 0 ? 3 : 2 }));
    }
    const logs: WriterLog[] = clients.map(() => ({
      sets: new Map(), deleted: new Set(), counterAcked: 0, counterSent: 0, stoppedBy: null,
    }));
    const writers = clients.map((client, writer) =>
      runWriter(client, writer, logs[writer] as WriterLog));
    await waitFor(`${ACKS_BEFORE_KILL} acknowledged writes`, () =>
      acknowledged(logs) >= ACKS_BEFORE_KILL ? true : undefined, 30_000, 5);
    node.signal(scenario.signal);
    const code = await node.exited();
    if (scenario.signal === 'SIGTERM') {
      // A graceful stop answers what it accepted, then exits 0.
      assert.equal(code, 0, node.output());
      assert.match(node.output(), /stopped; data flushed to disk/);
    }
    await Promise.all(writers);
    for (const log of logs) assert.ok(log.stoppedBy !== null);
    disconnectAll(clients);
    if (scenario.killAfterRecovery) {
      const interrupted = await startNode({ dir: node.dir, args });
      restarts.push(interrupted);
      interrupted.signal('SIGKILL');
      await interrupted.exited();
    }
    const restarted = await startNode({ dir: node.dir, args });
    restarts.push(restarted);
    await checkAcknowledged(restarted.port, logs);
  } finally {
    disconnectAll(clients);
    for (const restarted of restarts) await restarted.stop();
    await node.stop();
    node.cleanup();
  }
}

test('kill -9 with appendfsync always loses no acknowledged write', async () => {
  await crashAndRecover({ appendfsync: 'always', signal: 'SIGKILL', killAfterRecovery: false });
});

test('kill -9 with appendfsync everysec loses no acknowledged write', async () => {
  await crashAndRecover({ appendfsync: 'everysec', signal: 'SIGKILL',
    killAfterRecovery: false });
});

test('kill -9, then kill -9 again as soon as the restarted node answers: no loss', async () => {
  await crashAndRecover({ appendfsync: 'everysec', signal: 'SIGKILL',
    killAfterRecovery: true });
});

test('SIGTERM in the middle of a write stream: exit 0 and no loss', async () => {
  await crashAndRecover({ appendfsync: 'everysec', signal: 'SIGTERM',
    killAfterRecovery: false });
});
