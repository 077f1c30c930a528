/**
 * Clock skew (FAULTS.md): one node's wall clock runs five minutes ahead and another's two
 * minutes behind, through libfaketime preloaded into their processes (monotonic time left
 * alone, as NTP would). Versions are hybrid logical clocks, and a write at QUORUM reads the
 * newest version from a quorum first, so a write acknowledged after another one must win
 * last-write-wins whatever the coordinators' clocks say. With plain wall-clock timestamps
 * the write through the node five minutes ahead would beat every later write for five
 * minutes.
 *
 * Checked: sequential writes of one key through the fast, the correct and the slow node
 * end with the last one everywhere; INCRs through all three count every increment; and a
 * concurrent write workload through all three nodes loses no acknowledged write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseInfo } from '../helpers/clients.js';
import { expectString, startCluster, type Session } from '../helpers/cluster.js';
import { readAll, WriteWorkload } from '../helpers/cluster-workload.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
/** Offsets of the three nodes' wall clocks (libfaketime syntax). */
const OFFSETS = ['+0', '+300s', '-120s'];
const KEYS = 60;
const SKIP = existsSync(LIBFAKETIME) ? false
  : 'libfaketime is not installed (apt-get install faketime)';

function launcher(index: number): readonly string[] {
  const offset = OFFSETS[index] as string;
  if (offset === '+0') return [];
  // `env` execs the node (faketime(1) would fork, and the test checks the node's pid).
  return ['env', `LD_PRELOAD=${LIBFAKETIME}`, `FAKETIME=${offset}`,
    'FAKETIME_DONT_FAKE_MONOTONIC=1'];
}

test('last write wins in real order with node clocks 5 minutes ahead and 2 behind',
  { skip: SKIP },
  async (t) => {
    const cluster = await startCluster({ nodes: 3, launcher });
    const sessions: Session[] = [];
    let workload: WriteWorkload | undefined;
    try {
      const clocks: number[] = [];
      for (const node of cluster.nodes) {
        const info = parseInfo(expectString(await node.call('INFO', 'server'), 'INFO'));
        clocks.push(Number(info.get('server_time_usec')) / 1000);
      }
      const skewSeconds = clocks.map((ms) => Math.round(((ms - (clocks[0] as number)) / 1000)));
      t.diagnostic(`node clocks relative to node 0: ${skewSeconds.join(', ')} s`);
      assert.ok((skewSeconds[1] as number) > 250 && (skewSeconds[2] as number) < -90,
        'libfaketime skews the nodes');

      for (const node of cluster.nodes) {
        const session = await node.session();
        sessions.push(session);
        assert.equal(await session.call('CONSISTENCY', 'QUORUM'), 'OK');
      }
      const [correct, ahead, behind] = sessions as [Session, Session, Session];
      workload = await WriteWorkload.start(cluster.nodes, 1, 'skew');

      // Each write starts after the previous one was acknowledged.
      const order: Array<[Session, string]> = [[ahead, 'ahead'], [correct, 'correct'],
        [behind, 'behind'], [ahead, 'ahead-again'], [behind, 'behind-last']];
      const keys = Array.from({ length: KEYS }, (_, index) => `skew:seq:${index}`);
      for (const key of keys) {
        for (const [session, label] of order) {
          assert.equal(await session.call('SET', key, label), 'OK');
        }
      }
      const counters = Array.from({ length: 10 }, (_, index) => `skew:counter:${index}`);
      let increments = 0;
      for (let round = 0; round < 9; round++) {
        for (const counter of counters) {
          await (sessions[round % 3] as Session).call('INCR', counter);
          increments++;
        }
      }
      await workload.progress(200);
      await workload.stop();

      for (const [index, session] of sessions.entries()) {
        assert.equal(await session.call('CONSISTENCY', 'ALL'), 'OK');
        const values = await readAll(session, keys);
        const wrong = keys.filter((key) => values.get(key) !== 'behind-last');
        assert.deepEqual(wrong.slice(0, 5).map((key) => `${key}=${values.get(key)}`), [],
          `node ${index}: the last acknowledged write wins`);
        const counted = await readAll(session, counters);
        assert.deepEqual([...counted.values()], counters.map(() => '9'),
          `node ${index}: every INCR counted`);
      }
      const report = await workload.verify(sessions[2] as Session);
      t.diagnostic(`${KEYS} keys x ${order.length} sequential writes, ${increments} INCRs, ` +
        `${report.acknowledgedWrites} concurrent acknowledged writes: none lost or reordered`);
    } finally {
      for (const session of sessions) session.close();
      if (workload !== undefined) await workload.stop().catch(() => undefined);
      await cluster.stop();
    }
  });
