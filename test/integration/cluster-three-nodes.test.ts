/**
 * A 3-node cluster of real processes on loopback (replication factor 3): any key through any
 * node with ioredis, node-redis and redis-cli; the Redis Cluster presentation (CLUSTER
 * SLOTS / SHARDS / NODES / INFO) identical and well-formed on every node; the key and ring
 * introspection subcommands; a fourth node joining by CLUSTER MEET and removed by CLUSTER
 * FORGET once stopped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../../src/cluster/key-slot.js';
import { connectIoredis } from '../helpers/clients.js';
import {
  expectArray, pairs, startCluster, type Cluster,
} from '../helpers/cluster.js';
import {
  checkPresentation, checkSlots, exerciseWithIoredis, exerciseWithNodeRedis,
  exerciseWithRedisCli,
} from '../helpers/cluster-checks.js';
import { waitFor } from '../helpers/wait.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ nodes: 3 });
});

after(async () => {
  await cluster?.stop();
});

test('three nodes form one cluster', (t) => {
  t.diagnostic(`3-node cluster formed in ${cluster.formedInMs} ms`);
  assert.equal(new Set(cluster.nodes.map((node) => node.id)).size, 3);
});

test('any key through any node with ioredis', async () => {
  await exerciseWithIoredis(cluster.nodes, 'three');
});

test('any key through any node with node-redis', async () => {
  await exerciseWithNodeRedis(cluster.nodes, 'three');
});

test('any key through any node with redis-cli', async () => {
  await exerciseWithRedisCli(cluster.nodes, 'three');
});

test('CLUSTER SLOTS, SHARDS, NODES and INFO are identical and well-formed', async () => {
  await checkPresentation(cluster.nodes, 3);
});

test('CLUSTER MYID and KEYSLOT', async () => {
  for (const node of cluster.nodes) {
    assert.equal(await node.call('CLUSTER', 'MYID'), node.id);
    // Values Redis Cluster gives: clients and tools rely on the exact CRC16 slots.
    assert.equal(await node.call('CLUSTER', 'KEYSLOT', 'foo'), 12182);
    assert.equal(await node.call('CLUSTER', 'KEYSLOT', 'bar'), 5061);
    assert.equal(await node.call('CLUSTER', 'KEYSLOT', '{user1000}.following'),
      await node.call('CLUSTER', 'KEYSLOT', '{user1000}.followers'));
    for (const key of ['a', 'key:123', '{}x', '{tag}rest', 'ümlaut']) {
      assert.equal(await node.call('CLUSTER', 'KEYSLOT', key), keySlot(Buffer.from(key)));
    }
  }
});

test('CLUSTER PREFLIST names the replicas CLUSTER SLOTS presents, in order', async () => {
  const ranges = checkSlots(await cluster.node(0).call('CLUSTER', 'SLOTS'), cluster.nodes, 3);
  for (const key of ['foo', 'bar', 'user:1', 'user:2', '{x}y']) {
    const slot = keySlot(Buffer.from(key));
    const range = ranges.find((entry) => entry.start <= slot && slot <= entry.end);
    assert.ok(range !== undefined);
    for (const node of cluster.nodes) {
      // The state is this node's current opinion: retried, as a loaded machine can make a
      // live replica briefly suspect.
      await waitFor(`PREFLIST ${key} on ${node.address}`, async () => {
        const list = expectArray(await node.call('CLUSTER', 'PREFLIST', key), 'PREFLIST')
          .map((entry) => pairs(entry, 'PREFLIST entry'));
        assert.deepEqual(list.map((entry) => entry.get('id')), range.ids);
        for (const entry of list) {
          const member = cluster.nodes.find((each) => each.id === entry.get('id'));
          assert.ok(member !== undefined);
          assert.equal(entry.get('slot'), slot);
          assert.equal(entry.get('host'), member.host);
          assert.equal(entry.get('port'), member.port);
          assert.equal(entry.get('state'), 'alive');
        }
        return true;
      });
    }
  }
});

test('CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT count what each replica stores', async () => {
  const client = await connectIoredis(cluster.node(0).port);
  try {
    // Written at ALL: every replica (with N = 3, every node) stores them when OK comes.
    assert.equal(await client.call('CONSISTENCY', 'ALL'), 'OK');
    const keys = ['{slotted}a', '{slotted}b', '{slotted}c', '{slotted}d', '{slotted}e'];
    for (const key of keys) assert.equal(await client.set(key, 'v'), 'OK');
    const slot = keySlot(Buffer.from('{slotted}'));
    for (const node of cluster.nodes) {
      assert.equal(await node.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)), 5);
      const found = expectArray(await node.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '10'),
        'GETKEYSINSLOT') as string[];
      assert.deepEqual([...found].sort(), keys);
      assert.equal(expectArray(await node.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '2'),
        'GETKEYSINSLOT').length, 2);
      assert.equal(await node.call('CLUSTER', 'COUNTKEYSINSLOT', String((slot + 1) % 16384)),
        0);
    }
    const node = cluster.node(1);
    const outOfRange = await node.call('CLUSTER', 'COUNTKEYSINSLOT', '16384');
    assert.ok(outOfRange instanceof Error);
    assert.equal(outOfRange.message, 'ERR Invalid or out of range slot');
    const badCount = await node.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '-1');
    assert.ok(badCount instanceof Error);
    assert.equal(badCount.message, 'ERR Invalid number of keys');
  } finally {
    client.disconnect();
  }
});

test('CLUSTER RING: every member with its tokens and share of the slots', async () => {
  const ids = cluster.nodes.map((node) => node.id).sort();
  let seen: string | null = null;
  for (const node of cluster.nodes) {
    const members = expectArray(await node.call('CLUSTER', 'RING'), 'RING')
      .map((entry) => pairs(entry, 'RING entry'));
    assert.deepEqual(members.map((member) => member.get('id')).sort(), ids);
    let primarySlots = 0;
    for (const member of members) {
      assert.equal(member.get('tokens'), 128);
      assert.equal(expectArray(member.get('token-positions') ?? null, 'tokens').length, 128);
      primarySlots += member.get('primary-slots') as number;
      assert.match(String(member.get('ownership')), /^0\.\d{4}$/);
    }
    assert.equal(primarySlots, 16384);
    const text = JSON.stringify(members.map((member) => [...member]));
    assert.equal(text, seen ?? text, `CLUSTER RING of ${node.address} is identical`);
    seen = text;
  }
});

test('CLUSTER MEET joins a fourth node; CLUSTER FORGET removes it once stopped', async (t) => {
  const original = [...cluster.nodes];
  const fourth = await cluster.addNode({ seeded: false });
  assert.equal((await fourth.clusterInfo()).get('cluster_known_nodes'), '1');
  const meetStartedMs = Date.now();
  assert.equal(await cluster.node(0).call('CLUSTER', 'MEET', fourth.host, String(fourth.port)),
    'OK');
  await cluster.waitConverged({ members: [...original, fourth], healthy: true });
  t.diagnostic(`a node joined by CLUSTER MEET in ${Date.now() - meetStartedMs} ms`);
  await checkPresentation([...original, fourth], 3);
  const client = await connectIoredis(fourth.port);
  try {
    assert.equal(await client.set('joined:key', 'through the fourth node'), 'OK');
  } finally {
    client.disconnect();
  }
  const reader = await connectIoredis(cluster.node(2).port);
  try {
    assert.equal(await reader.get('joined:key'), 'through the fourth node');
  } finally {
    reader.disconnect();
  }

  await fourth.stop();
  const forgotten = await cluster.node(1).call('CLUSTER', 'FORGET', fourth.id);
  assert.equal(forgotten, 'OK');
  await cluster.waitConverged({ members: original, healthy: true });
  for (const node of original) {
    const lines = await node.clusterNodes();
    assert.ok(lines.every((line) => line.id !== fourth.id), `${node.address} forgot it`);
  }
  await checkPresentation(original, 3);

  const unknown = await cluster.node(0).call('CLUSTER', 'FORGET', 'f'.repeat(40));
  assert.ok(unknown instanceof Error);
  assert.equal(unknown.message, `ERR Unknown node ${'f'.repeat(40)}`);
  const self = await cluster.node(0).call('CLUSTER', 'FORGET', cluster.node(0).id);
  assert.ok(self instanceof Error);
  assert.equal(self.message, "ERR I tried hard but I can't forget myself...");
});
