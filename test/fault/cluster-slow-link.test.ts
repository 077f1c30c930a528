/**
 * A slow replica link, through a fault-injecting TCP proxy (helpers/fault-proxy.ts): node C
 * announces the proxy's port as its bus port, so every request another node sends it, and
 * C's answers, are delayed. Checked:
 *
 * - with a delay below the request timeout, writes at QUORUM do not wait for C (the two
 *   fast replicas answer) while reads at ALL do, and C still receives every write;
 * - with a delay beyond the request timeout, writes at QUORUM still succeed, C's replica
 *   write counts as failed and is kept as a hint; once the link is fast again the hint is
 *   replayed and C's own copy holds the value (anti-entropy off, no read repair involved);
 * - cut off (the proxy refuses C's inbound links: a partition without namespaces or root),
 *   the same: writes go on, C's share is hinted and replayed after healing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type ClusterNode, type Session } from '../helpers/cluster.js';
import { readAll } from '../helpers/cluster-workload.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

// Generous margins: a loaded CI machine can stall a process for hundreds of milliseconds,
// which must not be mistaken for waiting (or not) on the slow replica.
const REQUEST_TIMEOUT_MS = 3000;
/** One way; a round trip to C takes twice this. */
const SLOW_MS = 1000;
/** Beyond the request timeout even one way. */
const STALLED_MS = 4000;
const KEYS = 40;

async function hintsField(node: ClusterNode, name: string): Promise<number> {
  return Number((await node.ringkvInfo()).get(name));
}

async function timedCalls(session: Session, commands: string[][]): Promise<number[]> {
  const elapsed: number[] = [];
  for (const command of commands) {
    const { reply, elapsedMs } = await session.timed(...command);
    assert.ok(!(reply instanceof Error), `${command.join(' ')}: ${String(reply)}`);
    elapsed.push(elapsedMs);
  }
  return elapsed;
}

test('a slow, stalled or cut link to one replica: QUORUM goes on, C catches up from hints',
  async (t) => {
    const args = ['--request-timeout', String(REQUEST_TIMEOUT_MS),
      '--anti-entropy-interval', '3600000'];
    const cluster = await startCluster({ nodes: 2, args });
    const busPort = await freePort();
    const proxy = await FaultProxy.start(busPort);
    const sessions: Session[] = [];
    try {
      const slow = await cluster.addNode({ args: ['--cluster-port', String(busPort),
        '--cluster-announce-bus-port', String(proxy.port)] });
      await cluster.waitConverged({ healthy: true });
      const coordinator = cluster.node(0);
      const quorum = await coordinator.session();
      const all = await coordinator.session();
      const own = await slow.session();
      sessions.push(quorum, all, own);
      assert.equal(await quorum.call('CONSISTENCY', 'QUORUM'), 'OK');
      assert.equal(await all.call('CONSISTENCY', 'ALL'), 'OK');
      assert.equal(await own.call('CONSISTENCY', 'ONE'), 'OK');

      // Open (and authenticate) the coordinator's link to C while the link is fast: the
      // handshake's two round trips would otherwise count against the first requests.
      assert.equal(await all.call('SET', 'warm-up', 'x'), 'OK');

      // Slow, within the timeout.
      proxy.delayMs = SLOW_MS;
      const slowKeys = Array.from({ length: KEYS }, (_, index) => `slow:${index}`);
      const writes = await timedCalls(quorum, slowKeys.map((key) => ['SET', key, `v-${key}`]));
      const reads = await timedCalls(all, slowKeys.slice(0, 3).map((key) => ['GET', key]));
      const slowest = Math.max(...writes);
      t.diagnostic(`QUORUM writes: slowest ${slowest.toFixed(0)} ms; ALL reads: fastest ` +
        `${Math.min(...reads).toFixed(0)} ms (round trip to C ${2 * SLOW_MS} ms)`);
      assert.ok(slowest < 2 * SLOW_MS, 'QUORUM writes do not wait for the slow replica');
      assert.ok(Math.min(...reads) >= 2 * SLOW_MS - 20, 'ALL reads wait for it');
      await waitFor('C to receive every write over the slow link', async () => {
        const values = await readAll(own, slowKeys);
        return slowKeys.every((key) => values.get(key) === `v-${key}`) ? true : undefined;
      }, 20_000, 100);

      // Stalled: beyond the request timeout.
      const hintsBefore = await hintsField(coordinator, 'hints_stored');
      proxy.delayMs = STALLED_MS;
      const stalledKeys = Array.from({ length: KEYS }, (_, index) => `stalled:${index}`);
      // Concurrently: one at a time, each would wait out the timeout before the next.
      await Promise.all(stalledKeys.map(async (key) => {
        const session = await coordinator.session();
        sessions.push(session);
        await session.call('CONSISTENCY', 'QUORUM');
        assert.equal(await session.call('SET', key, `v-${key}`), 'OK', `SET ${key}`);
      }));
      await waitFor('hints for the stalled replica', async () =>
        ((await hintsField(coordinator, 'hints_stored')) > hintsBefore ? true : undefined),
      REQUEST_TIMEOUT_MS * 4, 50);
      proxy.delayMs = 0;
      await waitFor('hints to be replayed', async () =>
        ((await hintsField(coordinator, 'hints_pending')) === 0 ? true : undefined), 30_000, 100);
      const delivered = await hintsField(coordinator, 'hints_delivered');
      t.diagnostic(`${await hintsField(coordinator, 'hints_stored') - hintsBefore} hints ` +
        `stored while the link stalled, ${delivered} delivered`);
      assert.ok(delivered > 0, 'hints were delivered');
      const values = await readAll(own, stalledKeys);
      assert.deepEqual(stalledKeys.filter((key) => values.get(key) !== `v-${key}`), [],
        'C holds every write it missed while stalled');

      // Cut: the proxy drops C's inbound links and refuses new ones (C still reaches the
      // others, as in an asymmetric partition). Writes at QUORUM go on; C's share is hinted.
      const storedBefore = await hintsField(coordinator, 'hints_stored');
      proxy.partition();
      const cutKeys = Array.from({ length: KEYS }, (_, index) => `cut:${index}`);
      await timedCalls(quorum, cutKeys.map((key) => ['SET', key, `v-${key}`]));
      const hinted = await hintsField(coordinator, 'hints_stored') - storedBefore;
      assert.ok(hinted > 0, 'writes C could not take were hinted');
      proxy.heal();
      await waitFor('hints to be replayed after the cut healed', async () =>
        ((await hintsField(coordinator, 'hints_pending')) === 0 ? true : undefined), 30_000, 100);
      const afterCut = await readAll(own, cutKeys);
      assert.deepEqual(cutKeys.filter((key) => afterCut.get(key) !== `v-${key}`), [],
        'C holds every write it missed while cut off');
      t.diagnostic(`${hinted} writes hinted while C was cut off, all replayed after healing`);
    } finally {
      for (const session of sessions) session.close();
      await cluster.stop();
      await proxy.close();
    }
  });
