/**
 * A node paused (SIGSTOP) and resumed (SIGCONT) under write load: clients connected to the
 * two other nodes keep writing unique keys and incrementing counters at QUORUM. No client
 * sees an error (a quorum of live replicas answers without the paused one), and afterwards
 * every acknowledged write reads back at CONSISTENCY ALL; the read repairs the resumed node,
 * whose own copies then match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../helpers/cluster.js';
import { readAll, WriteWorkload } from '../helpers/cluster-workload.js';
import { waitFor } from '../helpers/wait.js';

test('writes at QUORUM through a pause of one node lose nothing', async (t) => {
  const startedMs = Date.now();
  const cluster = await startCluster({ nodes: 3 });
  let workload: WriteWorkload | undefined;
  try {
    const faulty = cluster.node(2);
    workload = await WriteWorkload.start([cluster.node(0), cluster.node(1)], 4, 'pause');
    await workload.progress(300);
    const pausedAtMs = Date.now();
    faulty.pause();
    await cluster.waitFailed(faulty);
    t.diagnostic(`paused node seen as failed by the others after ${Date.now() - pausedAtMs} ms`);
    await workload.progress(500);
    faulty.resume();
    await cluster.waitConverged({ healthy: true });
    t.diagnostic(`paused for ${Date.now() - pausedAtMs} ms in all`);
    await workload.progress(300);
    await workload.stop();

    const checker = await cluster.node(0).session();
    try {
      const report = await workload.verify(checker);
      t.diagnostic(`${report.acknowledgedWrites} acknowledged writes and ` +
        `${report.acknowledgedIncrements} increments, none lost`);
    } finally {
      checker.close();
    }
    // The ALL reads repaired every stale replica: each node's own copies now match.
    const written = workload.writtenKeys();
    for (const node of cluster.nodes) {
      const own = await node.session();
      try {
        assert.equal(await own.call('CONSISTENCY', 'ONE'), 'OK');
        await waitFor(`${node.address} to hold every acknowledged write`, async () => {
          const values = await readAll(own, [...written.keys()]);
          return [...written].every(([key, value]) => values.get(key) === value) ? true
            : undefined;
        });
      } finally {
        own.close();
      }
    }
  } finally {
    if (workload !== undefined) await workload.stop().catch(() => undefined);
    await cluster.stop();
    t.diagnostic(`fault test took ${Date.now() - startedMs} ms`);
  }
});
