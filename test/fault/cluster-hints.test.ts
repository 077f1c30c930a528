/**
 * Hinted handoff on real node processes (DESIGN.md section 8): a coordinator keeps the
 * writes a down replica missed as durable hints (they survive kill -9 of the coordinator)
 * and replays them once the replica is back, so the replica's own copy holds them without
 * read repair or anti-entropy. Anti-entropy is pushed an hour away and replicas are checked
 * at CONSISTENCY ONE on their own node (answered from the local copy, no repair), so only
 * hints can bring a restarted replica up to date here. Also: strict quorum never counts a
 * hint, sloppy quorum counts a durable one, and hints are bounded per replica.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  expectArray, startCluster, type Cluster, type ClusterNode, type Session,
} from '../helpers/cluster.js';
import { readAll } from '../helpers/cluster-workload.js';
import { waitFor } from '../helpers/wait.js';

/** No anti-entropy pass during a test: it would mask a hint that was never delivered. */
const ARGS = ['--anti-entropy-interval', '3600000'];
/** Hints are replayed every second once the replica is seen up again. */
const DRAIN_WAIT_MS = 20_000;

/** The `INFO ringkv` counters of a node, as numbers. */
async function ringInfo(node: ClusterNode): Promise<Map<string, number>> {
  const numbers = new Map<string, number>();
  for (const [name, value] of await node.ringkvInfo()) numbers.set(name, Number(value));
  return numbers;
}

async function field(node: ClusterNode, name: string): Promise<number> {
  const value = (await ringInfo(node)).get(name);
  assert.ok(value !== undefined && Number.isFinite(value), `INFO ringkv has no ${name}`);
  return value;
}

async function hintCounts(node: ClusterNode): Promise<string> {
  const info = await ringInfo(node);
  return ['pending', 'stored', 'delivered', 'refused', 'expired']
    .map((name) => `${name}=${info.get(`hints_${name}`)}`).join(' ');
}

async function session(node: ClusterNode, level: string): Promise<Session> {
  const opened = await node.session();
  assert.equal(await opened.call('CONSISTENCY', level), 'OK');
  return opened;
}

/** Sets every key through `node` at `level` over `connections` concurrent sessions. */
async function writeAll(node: ClusterNode, level: string, values: ReadonlyMap<string, string>,
    connections: number): Promise<void> {
  const entries = [...values];
  await Promise.all(Array.from({ length: connections }, async (_, lane) => {
    const writer = await session(node, level);
    try {
      for (let index = lane; index < entries.length; index += connections) {
        const [key, value] = entries[index] as [string, string];
        assert.equal(await writer.call('SET', key, value), 'OK', `SET ${key} at ${level}`);
      }
    } finally {
      writer.close();
    }
  }));
}

/**
 * The node's own copies of `keys`: at ONE a coordinator that replicates the key reads only
 * its local store (distributed-operation.ts readKey), so nothing is repaired on the way.
 */
async function ownCopies(node: ClusterNode, keys: readonly string[]):
    Promise<Map<string, string | null>> {
  const local = await session(node, 'ONE');
  try {
    return await readAll(local, keys);
  } finally {
    local.close();
  }
}

function missing(copies: ReadonlyMap<string, string | null>,
    expected: ReadonlyMap<string, string | null>): string[] {
  return [...expected].filter(([key, value]) => copies.get(key) !== value)
    .map(([key, value]) => `${key}: ${String(copies.get(key))} instead of ${String(value)}`);
}

/** Every key has a copy on every node (N = 3 on 3 nodes), so `node` replicates them all. */
async function assertReplicates(node: ClusterNode, keys: readonly string[]): Promise<void> {
  for (const key of [keys[0], keys[keys.length - 1]]) {
    const preflist = expectArray(await node.call('CLUSTER', 'PREFLIST', key as string), 'PREFLIST');
    assert.equal(preflist.length, 3, `${key} has three replicas`);
  }
}

/** Waits until no node holds a hint any more; returns how long that took. */
async function waitDrained(cluster: Cluster): Promise<number> {
  const startedMs = Date.now();
  await waitFor('every hint to be delivered', async () => {
    for (const node of cluster.nodes) {
      if (await field(node, 'hints_pending') !== 0) return undefined;
      if (await field(node, 'hints_pending_bytes') !== 0) return undefined;
    }
    return true;
  }, DRAIN_WAIT_MS, 50);
  return Date.now() - startedMs;
}

/** No anti-entropy pass ran anywhere (so it cannot have repaired what hints should). */
async function assertNoAntiEntropy(cluster: Cluster): Promise<void> {
  for (const node of cluster.nodes) {
    const info = await ringInfo(node);
    assert.equal(info.get('anti_entropy_passes'), 0, `node ${node.index} ran anti-entropy`);
    assert.equal(info.get('repair_keys_pulled'), 0, `node ${node.index} pulled keys`);
    assert.equal(info.get('repair_keys_pushed'), 0, `node ${node.index} pushed keys`);
  }
}

async function stopCluster(cluster: Cluster, t: TestContext, startedMs: number): Promise<void> {
  await cluster.stop();
  t.diagnostic(`test took ${Date.now() - startedMs} ms`);
}

test('hints survive kill -9 of their coordinator and bring a restarted replica up to date',
    async (t) => {
  const startedMs = Date.now();
  const cluster = await startCluster({ nodes: 3, args: ARGS });
  try {
    const [coordinator, other, replica] = [cluster.node(0), cluster.node(1), cluster.node(2)];
    const values = new Map(Array.from({ length: 2000 },
      (_, index) => [`handoff:${index}`, `value ${index}`] as [string, string]));
    const keys = [...values.keys()];
    await assertReplicates(coordinator, keys);

    const killedAtMs = Date.now();
    await replica.kill();
    await cluster.waitFailed(replica);
    t.diagnostic(`replica seen as failed after ${Date.now() - killedAtMs} ms`);
    const writeStartMs = Date.now();
    await writeAll(coordinator, 'QUORUM', values, 8);
    t.diagnostic(`${values.size} writes at QUORUM in ${Date.now() - writeStartMs} ms; ` +
      `coordinator hints: ${await hintCounts(coordinator)}`);
    // The replica is known down, so every write was hinted for it, on the coordinator only.
    assert.equal(await field(coordinator, 'hints_pending'), values.size);
    assert.equal(await field(coordinator, 'hints_stored'), values.size);
    assert.ok(await field(coordinator, 'hints_pending_bytes') > 0);
    assert.equal(await field(other, 'hints_pending'), 0, 'a replica that is not coordinating');
    const pendingBytes = await field(coordinator, 'hints_pending_bytes');

    // kill -9 the hint holder: its hints come back from disk.
    await coordinator.kill();
    await coordinator.start();
    assert.equal(await field(coordinator, 'hints_pending'), values.size,
      'every hint survives kill -9 of its coordinator');
    assert.equal(await field(coordinator, 'hints_pending_bytes'), pendingBytes);
    await cluster.waitConverged();
    assert.deepEqual(missing(await ownCopies(other, keys), values).slice(0, 5), [],
      'the other live replica has every write');

    const restartAtMs = Date.now();
    await replica.start();
    const drainedMs = await waitDrained(cluster);
    t.diagnostic(`replica restarted; hints drained ${Date.now() - restartAtMs} ms after the ` +
      `restart (${drainedMs} ms after it answered); coordinator hints: ` +
      `${await hintCounts(coordinator)}`);
    // The counters restarted with the process: this run delivered every hint.
    assert.equal(await field(coordinator, 'hints_delivered'), values.size);
    assert.equal(await field(coordinator, 'hints_expired'), 0);
    const copies = await ownCopies(replica, keys);
    assert.deepEqual(missing(copies, values).slice(0, 5), [],
      'the restarted replica holds every write it missed, from hints alone');
    assert.ok(await field(replica, 'repair_bytes_received') > 0,
      'the replica stored the replayed records');
    await assertNoAntiEntropy(cluster);
  } finally {
    await stopCluster(cluster, t, startedMs);
  }
});

test('strict quorum never counts a hint; sloppy quorum counts a durable one', async (t) => {
  const startedMs = Date.now();
  const cluster = await startCluster({ nodes: 3, args: [...ARGS, '--request-timeout', '2000'] });
  const sessions: Session[] = [];
  try {
    const [coordinator, replica] = [cluster.node(0), cluster.node(2)];
    await replica.kill();
    await cluster.waitFailed(replica);
    const all = await session(coordinator, 'ALL');
    sessions.push(all);

    const refusedAtMs = Date.now();
    const strict = await all.call('SET', 'sloppy:strict', 'strict value');
    t.diagnostic(`strict ALL write answered in ${Date.now() - refusedAtMs} ms: ${String(strict)}`);
    assert.ok(strict instanceof Error, 'strict quorum: a write at ALL with a replica down fails');
    assert.equal(strict.message, 'NOREPLICAS write quorum not reached: 2 of 3 required ' +
      'replicas acknowledged (replication factor 3)');
    const pendingBefore = await field(coordinator, 'hints_pending');

    assert.equal(await coordinator.call('CONFIG', 'SET', 'sloppy-quorum', 'yes'), 'OK');
    assert.deepEqual(await coordinator.call('CONFIG', 'GET', 'sloppy-quorum'),
      ['sloppy-quorum', 'yes']);
    const sloppyAtMs = Date.now();
    assert.equal(await all.call('SET', 'sloppy:strict', 'sloppy value'), 'OK',
      'sloppy quorum: the durable hint stands in for the down replica');
    assert.equal(await all.call('SET', 'sloppy:only', 'only sloppy'), 'OK');
    t.diagnostic(`two sloppy ALL writes took ${Date.now() - sloppyAtMs} ms; ` +
      `hints: ${await hintCounts(coordinator)}`);
    assert.equal(await field(coordinator, 'hints_pending'), pendingBefore + 2,
      'each sloppy write left a hint for the down replica');

    const restartAtMs = Date.now();
    await replica.start();
    const drainedMs = await waitDrained(cluster);
    t.diagnostic(`hints drained ${Date.now() - restartAtMs} ms after the restart ` +
      `(${drainedMs} ms after it answered); hints: ${await hintCounts(coordinator)}`);
    assert.equal(await field(coordinator, 'hints_delivered'), pendingBefore + 2);
    const expected = new Map([['sloppy:strict', 'sloppy value'],
      ['sloppy:only', 'only sloppy']]);
    assert.deepEqual(missing(await ownCopies(replica, [...expected.keys()]), expected), []);
    await assertNoAntiEntropy(cluster);
  } finally {
    for (const opened of sessions) opened.close();
    await stopCluster(cluster, t, startedMs);
  }
});

test('hints are bounded per replica; writes past the bound still reach W', async (t) => {
  const startedMs = Date.now();
  const bound = 10;
  const cluster = await startCluster({ nodes: 3,
    args: [...ARGS, '--hints-per-node-max', String(bound)] });
  try {
    const coordinators = [cluster.node(0), cluster.node(1)];
    const replica = cluster.node(2);
    await replica.kill();
    await cluster.waitFailed(replica);
    const written: Array<Map<string, string>> = [];
    for (const coordinator of coordinators) {
      const values = new Map(Array.from({ length: 50 }, (_, index) =>
        [`bounded:n${coordinator.index}:${index}`, `v${index}`] as [string, string]));
      // One at a time, so the first `bound` writes are the hinted ones.
      await writeAll(coordinator, 'QUORUM', values, 1);
      written.push(values);
      t.diagnostic(`node ${coordinator.index} hints: ${await hintCounts(coordinator)}`);
      assert.equal(await field(coordinator, 'hints_pending'), bound);
      assert.equal(await field(coordinator, 'hints_stored'), bound);
      assert.equal(await field(coordinator, 'hints_refused'), values.size - bound);
    }

    // Sloppy quorum cannot count a refused hint: the write fails at once (it used to get no
    // reply at all and leave its key locked for every later command).
    const sloppy = coordinators[0] as ClusterNode;
    assert.equal(await sloppy.call('CONFIG', 'SET', 'sloppy-quorum', 'yes'), 'OK');
    const all = await session(sloppy, 'ALL');
    try {
      const { reply, elapsedMs } = await all.timed('SET', 'bounded:sloppy', 'refused hint');
      t.diagnostic(`sloppy ALL write with its hint refused answered in ${elapsedMs.toFixed(0)} ms`);
      assert.ok(reply instanceof Error, 'a refused hint does not stand in for the replica');
      assert.equal(reply.message, 'NOREPLICAS write quorum not reached: 2 of 3 required ' +
        'replicas acknowledged (replication factor 3)');
      assert.equal(await all.call('CONSISTENCY', 'QUORUM'), 'OK');
      assert.equal(await all.call('SET', 'bounded:sloppy', 'after'), 'OK', 'the key is free');
    } finally {
      all.close();
    }
    assert.equal(await field(sloppy, 'hints_pending'), bound);

    const restartAtMs = Date.now();
    await replica.start();
    const drainedMs = await waitDrained(cluster);
    t.diagnostic(`hints drained ${Date.now() - restartAtMs} ms after the restart ` +
      `(${drainedMs} ms after it answered)`);
    for (const [index, coordinator] of coordinators.entries()) {
      assert.equal(await field(coordinator, 'hints_delivered'), bound);
      // Exactly the hinted writes reached the replica: the refused ones wait for repair.
      const values = written[index] as Map<string, string>;
      const expected = new Map([...values].map(([key, value], position) =>
        [key, position < bound ? value : null] as [string, string | null]));
      assert.deepEqual(missing(await ownCopies(replica, [...values.keys()]), expected), []);
    }
    await assertNoAntiEntropy(cluster);
  } finally {
    await stopCluster(cluster, t, startedMs);
  }
});
