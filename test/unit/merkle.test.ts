import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockHashes,
  blockSlots,
  decodeSummaries,
  differingEntries,
  encodeSummaries,
  planSlotRepair,
  slotDigests,
  BLOCK_COUNT,
  type DigestSource,
  type EntrySummary,
} from '../../src/antientropy/merkle.js';

function source(overrides: Map<number, [number, number]>): DigestSource {
  return { slotDigest: (slot) => overrides.get(slot) ?? [slot, slot * 7] };
}

const all = (): boolean => true;

test('identical digests give identical block hashes', () => {
  const a = blockHashes(source(new Map()), all);
  const b = blockHashes(source(new Map()), all);
  assert.equal(a.length, BLOCK_COUNT * 2);
  assert.deepEqual(differingEntries(a, b), []);
});

test('one differing slot opens exactly its block, then exactly that slot', () => {
  const local = source(new Map());
  const remote = source(new Map([[300, [1, 2]]]));
  const blocks = differingEntries(blockHashes(local, all), blockHashes(remote, all));
  assert.deepEqual(blocks, [2]);
  const slots = blockSlots(2);
  const differing = differingEntries(slotDigests(local, slots, all),
    slotDigests(remote, slots, all));
  assert.deepEqual(differing.map((index) => slots[index]), [300]);
});

test('slots outside the shared mask are ignored on both levels', () => {
  const local = source(new Map());
  const remote = source(new Map([[300, [1, 2]]]));
  const shared = (slot: number): boolean => slot !== 300;
  assert.deepEqual(differingEntries(blockHashes(local, shared), blockHashes(remote, shared)),
    []);
  // A block with no shared slot hashes to zero.
  const none = blockHashes(local, () => false);
  assert.ok(none.every((value) => value === 0));
});

function entry(key: string, physicalMs: number, nodeTag = 1): EntrySummary {
  return { stored: Buffer.from(key), version: { physicalMs, logical: 0, nodeTag } };
}

test('slot repair plan: newer and missing records move the right way, equal ones stay', () => {
  const local = [entry('a', 5), entry('b', 5), entry('d', 9)];
  const remote = [entry('a', 5), entry('b', 7), entry('c', 1), entry('d', 8)];
  const plan = planSlotRepair(local, remote);
  assert.deepEqual(plan.pull.map(String), ['b', 'c']);
  assert.deepEqual(plan.push.map(String), ['d']);
  assert.deepEqual(planSlotRepair([], []), { pull: [], push: [] });
  assert.deepEqual(planSlotRepair(local, []).push.map(String), ['a', 'b', 'd']);
});

test('a periodic pass leaves recent differences to the write path', () => {
  // Records written at 100 or later may still be on their way: neither direction moves
  // them; older differences move as before.
  const local = [entry('a', 50), entry('b', 120), entry('c', 100), entry('e', 99)];
  const remote = [entry('a', 60), entry('b', 40), entry('c', 90), entry('d', 150),
    entry('f', 20)];
  const plan = planSlotRepair(local, remote, 100);
  assert.deepEqual(plan.pull.map(String), ['a', 'f']);
  assert.deepEqual(plan.push.map(String), ['e']);
  // Without a bound (CLUSTER REPAIR, streaming) everything moves.
  const all = planSlotRepair(local, remote);
  assert.deepEqual(all.pull.map(String), ['a', 'd', 'f']);
  assert.deepEqual(all.push.map(String), ['b', 'c', 'e']);
});

test('ties on time are broken by the version, exactly as last-write-wins does', () => {
  const plan = planSlotRepair([entry('a', 5, 1)], [entry('a', 5, 2)]);
  assert.deepEqual(plan.pull.map(String), ['a']);
});

test('summaries round-trip on the wire and malformed bytes are refused', () => {
  const entries = [entry('k1', 1_795_000_000_000, 0xffffffff), entry('long'.repeat(100), 0)];
  const decoded = decodeSummaries(encodeSummaries(entries));
  assert.deepEqual(decoded, entries);
  assert.equal(decodeSummaries(encodeSummaries(entries).subarray(0, 5)), null);
  assert.deepEqual(decodeSummaries(Buffer.alloc(0)), []);
});
