/**
 * Assertions shared by the cluster test files: the Redis Cluster presentation every node
 * gives (CLUSTER SLOTS / SHARDS / NODES / INFO, COMPAT.md A2 and A5) and key traffic through
 * every node with ioredis, node-redis and redis-cli.
 */
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { keySlot } from '../../src/cluster/key-slot.js';
import { connectIoredis, disconnectAll, runTool, type TestRedis } from './clients.js';
import { waitFor } from './wait.js';
import {
  expectArray, expectString, pairs, type ClusterNode, type NodesLine, type Reply,
} from './cluster.js';

const SLOT_COUNT = 16384;

export interface SlotRange {
  start: number;
  end: number;
  /** Node ids, the presented master first. */
  ids: string[];
}

/** CLUSTER SLOTS checked for shape and placement; returns its ranges. */
export function checkSlots(reply: Reply, members: readonly ClusterNode[],
    replicas: number): SlotRange[] {
  const byId = new Map(members.map((node) => [node.id, node]));
  const ranges: SlotRange[] = [];
  let next = 0;
  for (const entry of expectArray(reply, 'CLUSTER SLOTS')) {
    const [start, end, ...nodes] = expectArray(entry, 'a CLUSTER SLOTS range');
    assert.equal(start, next, 'ranges cover the slots in order, each once');
    assert.ok(typeof end === 'number' && end >= start && end < SLOT_COUNT, `end ${String(end)}`);
    assert.equal(nodes.length, replicas, `range ${start}-${end} lists every replica`);
    const ids = nodes.map((node) => {
      const [host, port, id, metadata] = expectArray(node, 'a CLUSTER SLOTS node');
      const member = byId.get(expectString(id as Reply, 'node id'));
      assert.ok(member !== undefined, `range ${start}-${end} names unknown node ${String(id)}`);
      assert.equal(host, member.host);
      assert.equal(port, member.port);
      assert.deepEqual(metadata, []);
      return member.id;
    });
    assert.equal(new Set(ids).size, ids.length, `range ${start}-${end} has distinct replicas`);
    ranges.push({ start, end, ids });
    next = end + 1;
  }
  assert.equal(next, SLOT_COUNT, 'CLUSTER SLOTS covers slots 0-16383');
  return ranges;
}

/** The slot ranges each id is presented as master of, adjacent ranges merged. */
export function masterRanges(ranges: readonly SlotRange[]): Map<string, Array<[number, number]>> {
  const owned = new Map<string, Array<[number, number]>>();
  for (const range of ranges) {
    const id = range.ids[0] as string;
    const list = owned.get(id) ?? [];
    const last = list[list.length - 1];
    if (last !== undefined && last[1] + 1 === range.start) last[1] = range.end;
    else list.push([range.start, range.end]);
    owned.set(id, list);
  }
  return owned;
}

/** One node's CLUSTER NODES checked against the members and the SLOTS ranges. */
export function checkNodesLines(lines: readonly NodesLine[], self: ClusterNode,
    members: readonly ClusterNode[], ranges: readonly SlotRange[]): void {
  const owned = masterRanges(ranges);
  assert.equal(lines.length, members.length, 'one CLUSTER NODES line per member');
  assert.deepEqual(lines.filter((line) => line.flags.includes('myself')).map((line) => line.id),
    [self.id], 'exactly one line is flagged myself, this node');
  for (const member of members) {
    const line = lines.find((entry) => entry.id === member.id);
    assert.ok(line !== undefined, `CLUSTER NODES of ${self.address} lists ${member.address}`);
    assert.ok(line.fields.length >= 8, `a line has at least 8 fields: ${line.fields.join(' ')}`);
    assert.match(line.id, /^[0-9a-f]{40}$/);
    assert.equal(line.address, `${member.host}:${member.port}@${member.port + 10000}`);
    assert.ok(line.flags.includes('master'), `flags ${line.flags.join(',')}`);
    assert.equal(line.master, '-');
    assert.equal(line.link, 'connected');
    assert.deepEqual(line.slots, owned.get(member.id) ?? [], 'NODES slots = SLOTS masters');
  }
}

/** CLUSTER NODES without what legitimately differs per node (myself, ping/pong times). */
export function normalizedNodes(lines: readonly NodesLine[]): string {
  return lines.map((line) => [line.id, line.address,
    line.flags.filter((flag) => flag !== 'myself').join(','), line.master, line.epoch,
    line.link, ...line.slots.map(([start, end]) => `${start}-${end}`)].join(' ')).join('\n');
}

/** CLUSTER SHARDS (RESP2: flat maps) checked against the SLOTS ranges. */
export function checkShards(reply: Reply, members: readonly ClusterNode[],
    ranges: readonly SlotRange[]): void {
  const owned = masterRanges(ranges);
  const shards = expectArray(reply, 'CLUSTER SHARDS');
  assert.equal(shards.length, owned.size, 'one shard per presented master');
  const covered: Array<[number, number]> = [];
  for (const shard of shards) {
    const fields = pairs(shard, 'a shard');
    const slots = expectArray(fields.get('slots') ?? null, 'shard slots') as number[];
    const nodes = expectArray(fields.get('nodes') ?? null, 'shard nodes')
      .map((node) => pairs(node, 'a shard node'));
    const master = nodes[0];
    assert.ok(master !== undefined);
    assert.equal(master.get('role'), 'master');
    const spans: Array<[number, number]> = [];
    for (let index = 0; index < slots.length; index += 2) {
      spans.push([slots[index] as number, slots[index + 1] as number]);
    }
    assert.deepEqual(spans, owned.get(expectString(master.get('id') ?? null, 'id')));
    covered.push(...spans);
    for (const [index, node] of nodes.entries()) {
      assert.deepEqual([...node.keys()], ['id', 'port', 'ip', 'endpoint', 'role',
        'replication-offset', 'health']);
      const member = members.find((each) => each.id === node.get('id'));
      assert.ok(member !== undefined, `shard node ${String(node.get('id'))} is a member`);
      assert.equal(node.get('port'), member.port);
      assert.equal(node.get('ip'), member.host);
      assert.equal(node.get('role'), index === 0 ? 'master' : 'replica');
      assert.equal(node.get('health'), 'online');
    }
  }
  covered.sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [start, end] of covered) {
    assert.equal(start, next, 'shards cover every slot once');
    next = end + 1;
  }
  assert.equal(next, SLOT_COUNT);
}

/**
 * Every member's CLUSTER SLOTS, SHARDS, NODES and INFO: byte-identical SLOTS and SHARDS,
 * identical NODES and INFO up to the per-node fields, and each well-formed and consistent
 * with the others. Liveness shows in NODES, SHARDS and INFO, and a loaded machine can make
 * a node briefly suspect a live one, so the check is retried until it holds (the last
 * failure is reported at the deadline). Returns the SLOTS ranges.
 */
export async function checkPresentation(members: readonly ClusterNode[],
    replicas: number): Promise<SlotRange[]> {
  return await waitFor('a consistent cluster presentation', async () =>
    await presentationOnce(members, replicas));
}

async function presentationOnce(members: readonly ClusterNode[],
    replicas: number): Promise<SlotRange[]> {
  const first = members[0] as ClusterNode;
  const ranges = checkSlots(await first.call('CLUSTER', 'SLOTS'), members, replicas);
  const slotsBytes = await first.raw('CLUSTER', 'SLOTS');
  const shardsBytes = await first.raw('CLUSTER', 'SHARDS');
  checkShards(await first.call('CLUSTER', 'SHARDS'), members, ranges);
  let nodesSeen: string | null = null;
  let infoSeen: string | null = null;
  for (const node of members) {
    assert.ok((await node.raw('CLUSTER', 'SLOTS')).equals(slotsBytes),
      `CLUSTER SLOTS of ${node.address} is identical`);
    assert.ok((await node.raw('CLUSTER', 'SHARDS')).equals(shardsBytes),
      `CLUSTER SHARDS of ${node.address} is identical`);
    const lines = await node.clusterNodes();
    checkNodesLines(lines, node, members, ranges);
    const nodesText = normalizedNodes(lines);
    assert.equal(nodesText, nodesSeen ?? nodesText, `CLUSTER NODES of ${node.address}`);
    nodesSeen = nodesText;
    const info = await node.clusterInfo();
    assert.equal(info.get('cluster_state'), 'ok');
    assert.equal(info.get('cluster_slots_assigned'), '16384');
    assert.equal(info.get('cluster_slots_ok'), '16384');
    assert.equal(info.get('cluster_slots_fail'), '0');
    assert.equal(info.get('cluster_known_nodes'), String(members.length));
    assert.equal(info.get('cluster_size'), String(masterRanges(ranges).size));
    assert.equal(info.get('cluster_replication_factor'), String(replicas));
    // cluster_my_epoch is this node's own incarnation; everything else is shared.
    info.delete('cluster_my_epoch');
    const infoText = [...info].map(([name, value]) => `${name}:${value}`).join('\n');
    assert.equal(infoText, infoSeen ?? infoText, `CLUSTER INFO of ${node.address}`);
    infoSeen = infoText;
  }
  return ranges;
}

/** Keys spread over many slots: `count` keys under `prefix`. */
export function keysOverManySlots(prefix: string, count: number): string[] {
  const keys = Array.from({ length: count }, (_, index) => `${prefix}:${index}`);
  const slots = new Set(keys.map((key) => keySlot(Buffer.from(key))));
  assert.ok(slots.size >= count * 0.9, `${count} keys cover ${slots.size} slots`);
  return keys;
}

/**
 * String and key commands with ioredis (one plain client per node), each step written
 * through one node and checked through others: MSET/MGET spanning slots, SET/GET, DEL,
 * EXISTS, INCR, EXPIRE/TTL.
 */
export async function exerciseWithIoredis(nodes: readonly ClusterNode[], prefix: string):
    Promise<void> {
  const clients: TestRedis[] = [];
  try {
    for (const node of nodes) clients.push(await connectIoredis(node.port, { host: node.host }));
    const through = (index: number): TestRedis => clients[index % clients.length] as TestRedis;
    const keys = keysOverManySlots(`${prefix}:io`, 120);
    const values = keys.map((key) => `value of ${key}`);
    assert.equal(await through(0).mset(keys.flatMap((key, index) => [key, values[index]])),
      'OK');
    for (const client of clients) assert.deepEqual(await client.mget(keys), values);
    for (const [index, key] of keys.entries()) {
      assert.equal(await through(index).set(key, `second ${index}`), 'OK');
      assert.equal(await through(index + 1).get(key), `second ${index}`);
    }
    assert.equal(await through(1).exists(...keys.slice(0, 40), `${prefix}:io:missing`), 40);
    assert.equal(await through(2).del(...keys.slice(0, 20)), 20);
    for (const client of clients) {
      assert.equal(await client.exists(...keys.slice(0, 20)), 0);
      assert.equal(await client.get(keys[0] as string), null);
    }
    const counter = `${prefix}:io:counter`;
    for (let round = 0; round < 3; round++) {
      for (const [index, client] of clients.entries()) {
        assert.equal(await client.incr(counter), round * clients.length + index + 1);
      }
    }
    for (const client of clients) {
      assert.equal(await client.get(counter), String(3 * clients.length));
    }
    assert.equal(await through(0).expire(keys[30] as string, 100), 1);
    for (const client of clients) {
      const ttl = await client.ttl(keys[30] as string);
      assert.ok(ttl > 90 && ttl <= 100, `TTL ${ttl}`);
      assert.equal(await client.ttl(keys[31] as string), -1);
      assert.equal(await client.ttl(`${prefix}:io:missing`), -2);
    }
  } finally {
    disconnectAll(clients);
  }
}

/** The same commands with node-redis 6 (RESP3 by default), one client per node. */
export async function exerciseWithNodeRedis(nodes: readonly ClusterNode[], prefix: string):
    Promise<void> {
  const clients = nodes.map((node) => {
    const client = createClient({ socket: { host: node.host, port: node.port,
      reconnectStrategy: false, connectTimeout: 5000 } });
    client.on('error', () => undefined);
    return client;
  });
  try {
    for (const client of clients) await client.connect();
    const through = (index: number) => clients[index % clients.length] as typeof clients[number];
    const keys = keysOverManySlots(`${prefix}:nr`, 60);
    const entries = keys.map((key): [string, string] => [key, `nr ${key}`]);
    assert.equal(await through(1).mSet(entries), 'OK');
    for (const client of clients) {
      assert.deepEqual(await client.mGet(keys), keys.map((key) => `nr ${key}`));
    }
    for (const [index, key] of keys.entries()) {
      assert.equal(await through(index).set(key, String(index)), 'OK');
      assert.equal(await through(index + 2).get(key), String(index));
    }
    assert.equal(await through(0).exists(keys.slice(0, 10)), 10);
    assert.equal(await through(1).del(keys.slice(0, 5)), 5);
    assert.equal(await through(2).exists(keys.slice(0, 10)), 5);
    const counter = `${prefix}:nr:counter`;
    for (const [index, client] of clients.entries()) {
      assert.equal(await client.incr(counter), index + 1);
    }
    assert.equal(await through(0).expire(keys[7] as string, 50), 1);
    const ttl = await through(1).ttl(keys[7] as string);
    assert.ok(ttl > 40 && ttl <= 50, `TTL ${ttl}`);
  } finally {
    for (const client of clients) client.destroy();
  }
}

/** The same commands with redis-cli one-shot calls, each through a different node. */
export async function exerciseWithRedisCli(nodes: readonly ClusterNode[], prefix: string):
    Promise<void> {
  const cli = async (index: number, ...args: string[]): Promise<string> => {
    const node = nodes[index % nodes.length] as ClusterNode;
    const result = await runTool('redis-cli', ['-h', node.host, '-p', String(node.port),
      ...args]);
    assert.equal(result.stderr, '', `redis-cli ${args.join(' ')}`);
    assert.equal(result.code, 0);
    return result.stdout;
  };
  const keys = keysOverManySlots(`${prefix}:cli`, 10);
  assert.equal(await cli(0, 'MSET', ...keys.flatMap((key) => [key, `cli ${key}`])), 'OK\n');
  for (let index = 0; index < nodes.length; index++) {
    assert.equal(await cli(index, 'MGET', ...keys), keys.map((key) => `cli ${key}\n`).join(''));
  }
  for (const [index, key] of keys.slice(0, 4).entries()) {
    assert.equal(await cli(index, 'SET', key, `set ${index}`), 'OK\n');
    assert.equal(await cli(index + 1, 'GET', key), `set ${index}\n`);
  }
  assert.equal(await cli(1, 'EXISTS', ...keys), `${keys.length}\n`);
  assert.equal(await cli(2, 'DEL', keys[0] as string), '1\n');
  assert.equal(await cli(3, 'EXISTS', keys[0] as string), '0\n');
  assert.equal(await cli(0, 'INCR', `${prefix}:cli:n`), '1\n');
  assert.equal(await cli(1, 'INCR', `${prefix}:cli:n`), '2\n');
  assert.equal(await cli(2, 'EXPIRE', keys[1] as string, '60'), '1\n');
  const ttl = Number(await cli(3, 'TTL', keys[1] as string));
  assert.ok(ttl > 50 && ttl <= 60, `TTL ${ttl}`);
}
