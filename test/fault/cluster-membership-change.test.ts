/**
 * Membership changes move data (DESIGN.md sections 7 and 8), on real node processes with
 * replication factor 2, so ownership of slots really moves between 3 and 4 nodes.
 * Anti-entropy is pushed out to an hour and hinted handoff is off: only slot streaming can
 * put a copy on a node that gains a slot. Each scenario checks node-local copies first
 * (CONSISTENCY ONE on a replica reads its own copy, see DistributedOperation.readKey; no
 * read repair happens) and only then reads through the coordinators, because a read at
 * QUORUM or ALL repairs what it finds.
 *
 * - join: a fourth node added under a write load pulls every slot it gains;
 * - leave: CLUSTER LEAVE hands the leaving node's slots to their new replicas, then the
 *   process exits with code 0;
 * - forget: after CLUSTER FORGET of a node killed for good, the survivors rebuild the
 *   second copy of its slots from the copy that survived.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { keySlot } from '../../src/cluster/key-slot.js';
import {
  expectString, pairs, startCluster, type Cluster, type ClusterNode, type Reply,
} from '../helpers/cluster.js';
import { checkSlots } from '../helpers/cluster-checks.js';
import { readAll, WriteWorkload } from '../helpers/cluster-workload.js';
import { waitFor } from '../helpers/wait.js';

const REPLICAS = 2;
/** Only streaming moves data: no anti-entropy pass within a test, no hints. */
const ARGS = ['--replication-factor', String(REPLICAS), '--anti-entropy-interval', '3600000',
  '--hinted-handoff', 'no'];
/** Keys written before each membership change (about one in five slots gets one). */
const KEY_COUNT = 3000;
/** Keys per MSET while loading. */
const LOAD_BATCH = 100;
/** Padding so the streamed bytes are more than key summaries. */
const PADDING = 'x'.repeat(64);
/** Streaming a few thousand slots on a loaded 2-core machine: seconds, well under this. */
const STREAMING_WAIT_MS = 30_000;
/** CLUSTER PREFLIST is asked for this many keys to confirm CLUSTER SLOTS's placement. */
const PREFLIST_SAMPLE = 60;

type Written = Map<string, string>;

/** Writes `count` unique keys at CONSISTENCY ALL through `node`; returns key -> value. */
async function writeKeys(node: ClusterNode, prefix: string, count: number): Promise<Written> {
  const written: Written = new Map();
  for (let index = 0; index < count; index++) {
    written.set(`${prefix}:${index}`, `${prefix}-value-${index}-${PADDING}`);
  }
  const session = await node.session();
  try {
    assert.equal(await session.call('CONSISTENCY', 'ALL'), 'OK');
    const entries = [...written];
    for (let start = 0; start < entries.length; start += LOAD_BATCH) {
      const args = entries.slice(start, start + LOAD_BATCH).flat();
      assert.equal(await session.call('MSET', ...args), 'OK', 'MSET at ALL');
    }
  } finally {
    session.close();
  }
  return written;
}

function numberField(info: Map<string, string>, field: string): number {
  const value = info.get(field);
  assert.ok(value !== undefined, `INFO ringkv has ${field}`);
  return Number(value);
}

/** Streaming counters of a node, for diagnostics and assertions. */
interface StreamingStatus {
  state: string;
  total: number;
  done: number;
  failed: number;
  bytesMoved: number;
  keysPulled: number;
  keysPushed: number;
  bytesReceived: number;
}

async function streamingStatus(node: ClusterNode): Promise<StreamingStatus> {
  const info = await node.ringkvInfo();
  return {
    state: info.get('streaming_state') ?? '',
    total: numberField(info, 'streaming_slots_total'),
    done: numberField(info, 'streaming_slots_done'),
    failed: numberField(info, 'streaming_slots_failed'),
    bytesMoved: numberField(info, 'repair_bytes_moved'),
    keysPulled: numberField(info, 'repair_keys_pulled'),
    keysPushed: numberField(info, 'repair_keys_pushed'),
    bytesReceived: numberField(info, 'repair_bytes_received'),
  };
}

function describe(status: StreamingStatus): string {
  return `state ${status.state}, slots ${status.done}/${status.total} done ` +
    `(${status.failed} failed), ${status.keysPulled} keys pulled, ${status.keysPushed} pushed, ` +
    `${status.bytesMoved} bytes moved, ${status.bytesReceived} received`;
}

/** Waits until the node's streaming is idle with `slotsDoneMin` slots done at least. */
async function waitStreamingIdle(node: ClusterNode, slotsDoneMin: number):
    Promise<StreamingStatus> {
  let last: StreamingStatus | null = null;
  try {
    return await waitFor(`${node.address} to finish streaming`, async () => {
      last = await streamingStatus(node);
      return last.state === 'idle' && last.done >= slotsDoneMin ? last : undefined;
    }, STREAMING_WAIT_MS, 50);
  } catch (error) {
    const seen = last === null ? 'no INFO' : describe(last);
    throw new Error(`${(error as Error).message} (last: ${seen})`);
  }
}

/** Slot -> replica ids (coordinator first), from CLUSTER SLOTS of `node`. */
async function placement(node: ClusterNode, members: readonly ClusterNode[]):
    Promise<(slot: number) => string[]> {
  const ranges = checkSlots(await node.call('CLUSTER', 'SLOTS'), members, REPLICAS);
  const bySlot: string[][] = [];
  for (const range of ranges) {
    for (let slot = range.start; slot <= range.end; slot++) bySlot[slot] = range.ids;
  }
  return (slot) => bySlot[slot] ?? [];
}

/** CLUSTER PREFLIST agrees with CLUSTER SLOTS for a sample of the keys. */
async function checkPreflistSample(node: ClusterNode, keys: readonly string[],
    replicasOf: (slot: number) => string[]): Promise<void> {
  const session = await node.session();
  try {
    const step = Math.max(1, Math.floor(keys.length / PREFLIST_SAMPLE));
    for (let index = 0; index < keys.length; index += step) {
      const key = keys[index] as string;
      const reply = await session.call('CLUSTER', 'PREFLIST', key);
      assert.ok(Array.isArray(reply), `CLUSTER PREFLIST ${key}: ${String(reply)}`);
      const ids = reply.map((entry: Reply) =>
        expectString(pairs(entry, 'a PREFLIST entry').get('id') as Reply, 'id'));
      assert.deepEqual(ids, replicasOf(keySlot(Buffer.from(key))),
        `PREFLIST and SLOTS agree on ${key}`);
    }
  } finally {
    session.close();
  }
}

/**
 * Every key is held, with its value, by every replica of its slot, each replica read on
 * its own (CONSISTENCY ONE on a replica answers from its local copy, with no read repair).
 * Returns how many keys each node was checked for.
 */
async function checkReplicasHold(members: readonly ClusterNode[], written: Written,
    replicasOf: (slot: number) => string[]): Promise<Map<ClusterNode, number>> {
  const checked = new Map<ClusterNode, number>();
  for (const node of members) {
    const keys = [...written.keys()].filter((key) =>
      replicasOf(keySlot(Buffer.from(key))).includes(node.id));
    const session = await node.session();
    try {
      assert.equal(await session.call('CONSISTENCY', 'ONE'), 'OK');
      const values = await readAll(session, keys);
      const wrong = keys.filter((key) => values.get(key) !== written.get(key));
      assert.deepEqual(wrong.slice(0, 5).map((key) => `${key}=${String(values.get(key))}`), [],
        `${node.address} lacks ${wrong.length} of the ${keys.length} keys it is a replica of`);
    } finally {
      session.close();
    }
    checked.set(node, keys.length);
  }
  return checked;
}

/** Node-local key counts of the slots a node replicates agree with the written keys. */
async function checkSlotCounts(node: ClusterNode, written: Written,
    replicasOf: (slot: number) => string[]): Promise<number> {
  const expected = new Map<number, number>();
  for (const key of written.keys()) {
    const slot = keySlot(Buffer.from(key));
    if (replicasOf(slot).includes(node.id)) expected.set(slot, (expected.get(slot) ?? 0) + 1);
  }
  const session = await node.session();
  try {
    for (const [slot, count] of expected) {
      const held = await session.call('CLUSTER', 'COUNTKEYSINSLOT', String(slot));
      assert.ok(typeof held === 'number' && held >= count,
        `${node.address} holds ${String(held)} keys of slot ${slot}, ${count} expected at least`);
    }
  } finally {
    session.close();
  }
  return expected.size;
}

/** Reads every key at `level` through each node; all must return the written values. */
async function checkReadsThrough(nodes: readonly ClusterNode[], written: Written,
    level: 'QUORUM' | 'ALL'): Promise<void> {
  const keys = [...written.keys()];
  for (const node of nodes) {
    const session = await node.session();
    try {
      assert.equal(await session.call('CONSISTENCY', level), 'OK');
      const values = await readAll(session, keys);
      const wrong = keys.filter((key) => values.get(key) !== written.get(key));
      assert.deepEqual(wrong.slice(0, 5), [],
        `${wrong.length} keys read wrong at ${level} through ${node.address}`);
    } finally {
      session.close();
    }
  }
}

function rate(amount: number, elapsedMs: number): string {
  return (amount / Math.max(elapsedMs, 1) * 1000).toFixed(0);
}

async function withCluster(t: TestContext, nodes: number,
    body: (cluster: Cluster) => Promise<void>): Promise<void> {
  const startedMs = Date.now();
  const cluster = await startCluster({ nodes, args: ARGS });
  try {
    t.diagnostic(`${nodes} nodes formed in ${cluster.formedInMs} ms`);
    await body(cluster);
  } finally {
    await cluster.stop();
    t.diagnostic(`scenario took ${Date.now() - startedMs} ms`);
  }
}

test('a joining node pulls every slot it gains, under a write load', async (t) => {
  await withCluster(t, 3, async (cluster) => {
    const written = await writeKeys(cluster.node(0), 'join', KEY_COUNT);
    const workload = await WriteWorkload.start(cluster.nodes.slice(0, 3), 1, 'join-load');
    let newcomer: ClusterNode | undefined;
    try {
      await workload.progress(100);
      const joinedAtMs = Date.now();
      newcomer = await cluster.addNode();
      await cluster.waitConverged();
      const convergedMs = Date.now() - joinedAtMs;
      const status = await waitStreamingIdle(newcomer, 1);
      const streamedMs = Date.now() - joinedAtMs;
      t.diagnostic(`4th node converged after ${convergedMs} ms, streaming idle after ` +
        `${streamedMs} ms: ${describe(status)}`);
      t.diagnostic(`join streaming rate: ${rate(status.done, streamedMs)} slots/s, ` +
        `${rate(status.bytesMoved, streamedMs)} bytes/s (upper bound on the time)`);
      assert.equal(status.failed, 0, 'no slot failed to stream');
      assert.ok(status.keysPulled > 0, 'the new node pulled keys');
      await workload.progress(100);
    } finally {
      // N = 2 and QUORUM = 2 without hints (this test checks what streaming moves): a
      // replica suspected for a moment refuses a write with NOREPLICAS, which the client
      // sees and which is not acknowledged. Seen once in a loaded full run; a few such
      // refusals are the designed behaviour, anything else (or a lost write) fails.
      const refused = await workload.stop({ errors: /^(NOREPLICAS|CLUSTERDOWN) /,
        shareMax: 0.01 });
      if (refused.length > 0) {
        t.diagnostic(`${refused.length} writes refused during the join: ${refused[0]}`);
      }
    }
    assert.ok(newcomer !== undefined);
    const added = newcomer;

    const replicasOf = await placement(added, cluster.nodes);
    await checkPreflistSample(added, [...written.keys()], replicasOf);
    const gained = [...written.keys()].filter((key) =>
      replicasOf(keySlot(Buffer.from(key))).includes(added.id));
    assert.ok(gained.length > KEY_COUNT / 4,
      `the new node replicates ${gained.length} of ${KEY_COUNT} keys`);
    const checked = await checkReplicasHold(cluster.nodes, written, replicasOf);
    const slots = await checkSlotCounts(added, written, replicasOf);
    t.diagnostic(`the new node holds all ${checked.get(added)} keys it now replicates ` +
      `(${slots} slots checked with COUNTKEYSINSLOT); every replica checked node-locally: ` +
      `${[...checked.values()].join(', ')} keys`);
    // The written values, through every node, with a quorum of the new replicas.
    await checkReadsThrough(cluster.nodes, written, 'QUORUM');
    const checker = await cluster.node(1).session();
    try {
      const report = await workload.verify(checker);
      t.diagnostic(`${report.acknowledgedWrites} writes acknowledged during the join, ` +
        'none missing at ALL');
    } finally {
      checker.close();
    }
  });
});

/** CLUSTER LEAVE, or SIGTERM with leave-on-shutdown yes: the same hand-off, then exit 0. */
async function leaveScenario(t: TestContext, how: 'command' | 'signal'): Promise<void> {
  await withCluster(t, 4, async (cluster) => {
    const leaver = cluster.node(3);
    const remaining = cluster.nodes.slice(0, 3);
    const written = await writeKeys(cluster.node(0), 'leave', KEY_COUNT);
    const before = await streamingStatus(leaver);
    if (how === 'signal') {
      assert.equal(await leaver.call('CONFIG', 'SET', 'leave-on-shutdown', 'yes'), 'OK');
    }
    const leftAtMs = Date.now();
    if (how === 'command') assert.equal(await leaver.call('CLUSTER', 'LEAVE'), 'OK');
    else leaver.server?.signal('SIGTERM');
    let last = before;
    if (leaver.alive) {
      if (how === 'command') {
        const again = await leaver.call('CLUSTER', 'LEAVE').catch((error: Error) => error);
        assert.ok(again instanceof Error, 'a second CLUSTER LEAVE is refused');
        // It gossips its departure for 5 rounds after the hand-off, so it still answers.
        assert.match(again.message, /^ERR .*already leaving/, 'a second CLUSTER LEAVE');
      }
      // Progress while it hands off, until it stops answering.
      for (;;) {
        try {
          last = await streamingStatus(leaver);
        } catch {
          break;
        }
        if (!leaver.alive) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const code = await (leaver.server as NonNullable<ClusterNode['server']>).exited(20_000);
    const exitedMs = Date.now() - leftAtMs;
    assert.equal(code, 0, 'the leaving node exits with code 0');
    t.diagnostic(`left node exited after ${exitedMs} ms; last seen ${describe(last)}`);
    t.diagnostic(`hand-off rate at least ${rate(last.done, exitedMs)} slots/s, ` +
      `${rate(last.bytesMoved - before.bytesMoved, exitedMs)} bytes/s`);
    assert.ok(last.total > 0, 'the leaving node had slots to hand off');
    assert.equal(last.failed, 0, 'no slot failed to hand off');

    await cluster.waitConverged({ members: remaining });
    for (const node of remaining) {
      const status = await waitStreamingIdle(node, 0);
      t.diagnostic(`${node.address} after the leave: ${describe(status)}`);
      assert.equal(status.failed, 0);
    }
    t.diagnostic(`3 members converged, streaming done, ${Date.now() - leftAtMs} ms after LEAVE`);
    const replicasOf = await placement(cluster.node(0), remaining);
    await checkPreflistSample(cluster.node(1), [...written.keys()], replicasOf);
    const checked = await checkReplicasHold(remaining, written, replicasOf);
    t.diagnostic(`replicas checked node-locally: ${[...checked.values()].join(', ')} keys`);
    await checkReadsThrough(remaining, written, 'ALL');
  });
}

test('CLUSTER LEAVE hands every slot to its new replicas, then exits with code 0',
  async (t) => leaveScenario(t, 'command'));

test('SIGTERM with leave-on-shutdown yes hands the slots off before exiting 0',
  async (t) => leaveScenario(t, 'signal'));

test('CLUSTER FORGET of a dead node rebuilds its copies from the survivors', async (t) => {
  await withCluster(t, 4, async (cluster) => {
    const dead = cluster.node(3);
    const survivors = cluster.nodes.slice(0, 3);
    const written = await writeKeys(cluster.node(0), 'forget', KEY_COUNT);
    const before = new Map<ClusterNode, StreamingStatus>();
    for (const node of survivors) before.set(node, await streamingStatus(node));
    const killedAtMs = Date.now();
    await dead.kill();
    await cluster.waitFailed(dead);
    t.diagnostic(`killed node seen as failed after ${Date.now() - killedAtMs} ms`);

    const forgotAtMs = Date.now();
    const replies = await Promise.all(survivors.map((node) =>
      node.call('CLUSTER', 'FORGET', dead.id)));
    for (const reply of replies) {
      // Gossip may have carried the first FORGET to a node before its own arrived.
      if (reply !== 'OK') {
        assert.ok(reply instanceof Error && /^ERR Unknown node/.test(reply.message),
          `CLUSTER FORGET: ${String(reply)}`);
      }
    }
    assert.ok(replies.includes('OK'), 'FORGET accepted');
    await cluster.waitConverged({ members: survivors });
    let slotsDone = 0;
    let bytesMoved = 0;
    for (const node of survivors) {
      const status = await waitStreamingIdle(node, 0);
      const earlier = before.get(node) as StreamingStatus;
      slotsDone += status.done - earlier.done;
      bytesMoved += status.bytesMoved - earlier.bytesMoved;
      t.diagnostic(`${node.address} after FORGET: ${describe(status)}`);
      assert.equal(status.failed - earlier.failed, 0, 'no slot failed to stream');
    }
    const rebuiltMs = Date.now() - forgotAtMs;
    t.diagnostic(`forgotten, converged and rebuilt in ${rebuiltMs} ms: ${slotsDone} slots, ` +
      `${rate(slotsDone, rebuiltMs)} slots/s, ${rate(bytesMoved, rebuiltMs)} bytes/s`);
    assert.ok(slotsDone > 0, 'the survivors pulled the slots they gained');

    const replicasOf = await placement(cluster.node(0), survivors);
    await checkPreflistSample(cluster.node(2), [...written.keys()], replicasOf);
    const checked = await checkReplicasHold(survivors, written, replicasOf);
    t.diagnostic(`replicas checked node-locally: ${[...checked.values()].join(', ')} keys`);
    await checkReadsThrough(survivors, written, 'ALL');
  });
});
