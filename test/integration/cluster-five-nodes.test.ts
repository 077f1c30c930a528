/**
 * A 5-node cluster with replication factor 3, so each key lives on 3 of the 5 nodes and a
 * node often coordinates keys it does not store: any key through any node with ioredis,
 * node-redis and redis-cli; the presentation identical and well-formed on every node; keys
 * stored exactly on the replicas CLUSTER PREFLIST and CLUSTER SLOTS name.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../../src/cluster/key-slot.js';
import { connectIoredis } from '../helpers/clients.js';
import { expectArray, pairs, startCluster, type Cluster } from '../helpers/cluster.js';
import {
  checkPresentation, checkSlots, exerciseWithIoredis, exerciseWithNodeRedis,
  exerciseWithRedisCli, keysOverManySlots,
} from '../helpers/cluster-checks.js';

let cluster: Cluster;

before(async () => {
  cluster = await startCluster({ nodes: 5 });
});

after(async () => {
  await cluster?.stop();
});

test('five nodes form one cluster', (t) => {
  t.diagnostic(`5-node cluster formed in ${cluster.formedInMs} ms`);
  assert.equal(new Set(cluster.nodes.map((node) => node.id)).size, 5);
});

test('CLUSTER SLOTS, SHARDS, NODES and INFO are identical and well-formed', async () => {
  const ranges = await checkPresentation(cluster.nodes, 3);
  // Five nodes with 128 tokens each: every node is presented as master of some slots.
  assert.equal(new Set(ranges.map((range) => range.ids[0])).size, 5);
});

test('any key through any node with ioredis', async () => {
  await exerciseWithIoredis(cluster.nodes, 'five');
});

test('any key through any node with node-redis', async () => {
  await exerciseWithNodeRedis(cluster.nodes, 'five');
});

test('any key through any node with redis-cli', async () => {
  await exerciseWithRedisCli(cluster.nodes, 'five');
});

test('each key is stored on exactly the replicas PREFLIST and SLOTS name', async () => {
  const ranges = checkSlots(await cluster.node(0).call('CLUSTER', 'SLOTS'), cluster.nodes, 3);
  const client = await connectIoredis(cluster.node(3).port);
  try {
    assert.equal(await client.call('CONSISTENCY', 'ALL'), 'OK');
    const keys = keysOverManySlots('placed', 30);
    for (const key of keys) assert.equal(await client.set(key, key), 'OK');
    for (const key of keys) {
      const slot = keySlot(Buffer.from(key));
      const range = ranges.find((entry) => entry.start <= slot && slot <= entry.end);
      assert.ok(range !== undefined);
      const preflist = expectArray(await cluster.node(1).call('CLUSTER', 'PREFLIST', key), key)
        .map((entry) => pairs(entry, 'PREFLIST entry').get('id'));
      assert.deepEqual(preflist, range.ids);
      for (const node of cluster.nodes) {
        const stored = range.ids.includes(node.id);
        const inSlot = expectArray(
          await node.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100'), 'GETKEYSINSLOT');
        assert.equal(inSlot.includes(key), stored,
          `${key} (slot ${slot}) on ${node.address}: expected stored=${stored}`);
      }
    }
  } finally {
    client.disconnect();
  }
});
