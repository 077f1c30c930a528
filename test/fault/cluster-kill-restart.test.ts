/**
 * A node killed with SIGKILL under write load and restarted on its data directory: clients
 * connected to the two other nodes keep writing unique keys and incrementing counters at
 * QUORUM. No client sees an error; the restarted node rejoins (same id, next incarnation);
 * every acknowledged write reads back at CONSISTENCY ALL, and the read repairs the writes
 * the node missed while it was down, so its own copies then match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from '../helpers/cluster.js';
import { readAll, WriteWorkload } from '../helpers/cluster-workload.js';
import { waitFor } from '../helpers/wait.js';

test('writes at QUORUM through a kill -9 and restart of one node lose nothing', async (t) => {
  const startedMs = Date.now();
  const cluster = await startCluster({ nodes: 3 });
  let workload: WriteWorkload | undefined;
  try {
    const faulty = cluster.node(2);
    const id = faulty.id;
    const epoch = (await faulty.clusterInfo()).get('cluster_my_epoch');
    workload = await WriteWorkload.start([cluster.node(0), cluster.node(1)], 4, 'kill');
    await workload.progress(300);
    const killedAtMs = Date.now();
    await faulty.kill();
    await cluster.waitFailed(faulty);
    t.diagnostic(`killed node seen as failed after ${Date.now() - killedAtMs} ms`);
    await workload.progress(500);
    const restartAtMs = Date.now();
    await faulty.start();
    assert.equal(faulty.id, id, 'the node keeps its id across restarts');
    assert.equal((await faulty.clusterInfo()).get('cluster_my_epoch'),
      String(Number(epoch) + 1), 'and starts with the next incarnation');
    await cluster.waitConverged({ healthy: true });
    t.diagnostic(`restarted node rejoined in ${Date.now() - restartAtMs} ms`);
    await workload.progress(300);
    await workload.stop();

    const checker = await cluster.node(1).session();
    try {
      const report = await workload.verify(checker);
      t.diagnostic(`${report.acknowledgedWrites} acknowledged writes and ` +
        `${report.acknowledgedIncrements} increments, none lost`);
    } finally {
      checker.close();
    }
    const written = workload.writtenKeys();
    const own = await faulty.session();
    try {
      assert.equal(await own.call('CONSISTENCY', 'ONE'), 'OK');
      await waitFor('the restarted node to hold every acknowledged write', async () => {
        const values = await readAll(own, [...written.keys()]);
        return [...written].every(([key, value]) => values.get(key) === value) ? true
          : undefined;
      });
    } finally {
      own.close();
    }
  } finally {
    if (workload !== undefined) await workload.stop().catch(() => undefined);
    await cluster.stop();
    t.diagnostic(`fault test took ${Date.now() - startedMs} ms`);
  }
});
