import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HintStore } from '../../src/coordinator/hints.js';
import { encodeRecord, StoredRecord, ValueType } from '../../src/storage/record.js';
import { MemoryTable } from '../helpers/memory-table.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function record(value: string, physicalMs = 1000): StoredRecord {
  return new StoredRecord(encodeRecord({ version: { physicalMs, logical: 0, nodeTag: 1 },
    tombstone: false, type: ValueType.String, expireAtMs: 0, value: Buffer.from(value),
    fullKey: null }));
}

test('hints are kept per target, in order, and survive a reload', () => {
  const table = new MemoryTable();
  const hints = new HintStore(table, { perTargetMax: 10, bytesMax: 1 << 20, ttlMs: 60_000 });
  assert.ok(hints.add(A, Buffer.from('k1'), record('1'), 0));
  assert.ok(hints.add(B, Buffer.from('k2'), record('2'), 0));
  assert.ok(hints.add(A, Buffer.from('k3'), record('3'), 0));
  assert.deepEqual(hints.targets().sort(), [A, B]);
  const batch = hints.batch(A, 10, 1);
  assert.deepEqual(batch.map((hint) => hint.stored.toString()), ['k1', 'k3']);
  assert.equal(batch[1]?.record.value.toString(), '3');
  const reloaded = new HintStore(table, { perTargetMax: 10, bytesMax: 1 << 20, ttlMs: 60_000 });
  reloaded.load();
  assert.equal(reloaded.pending, 3);
  reloaded.delivered(reloaded.batch(A, 1, 1)[0] as NonNullable<ReturnType<HintStore['batch']>[0]>);
  assert.equal(reloaded.pendingFor(A), 1);
  assert.ok(reloaded.add(A, Buffer.from('k4'), record('4'), 0), 'sequence continues after reload');
  assert.deepEqual(reloaded.batch(A, 10, 1).map((hint) => hint.stored.toString()), ['k3', 'k4']);
});

test('bounds: count per target and total bytes refuse hints; old hints expire', () => {
  const hints = new HintStore(new MemoryTable(), { perTargetMax: 2, bytesMax: 1 << 20,
    ttlMs: 100 });
  assert.ok(hints.add(A, Buffer.from('k1'), record('1'), 0));
  assert.ok(hints.add(A, Buffer.from('k2'), record('2'), 50));
  assert.equal(hints.add(A, Buffer.from('k3'), record('3'), 50), false);
  assert.equal(hints.stats.refused, 1);
  assert.deepEqual(hints.batch(A, 10, 120).map((hint) => hint.stored.toString()), ['k2']);
  assert.equal(hints.stats.expired, 1);
  const small = new HintStore(new MemoryTable(), { perTargetMax: 100, bytesMax: 100,
    ttlMs: 100 });
  assert.equal(small.add(A, Buffer.from('k'), record('x'.repeat(200)), 0), false);
});
