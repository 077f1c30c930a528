/**
 * The writer thread's batch order: grouped by key prefix, stable within a prefix, so that
 * applying a batch in this order leaves every key as applying it in log order would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WriteOrder } from '../../src/storage/write-order.js';

interface Row {
  source: number;
  table: number;
  kind: number;
  keyStart: number;
  valueStart: number;
  end: number;
}

function visited(order: WriteOrder): Row[] {
  const rows: Row[] = [];
  order.forEach((source, table, kind, keyStart, valueStart, end) => {
    rows.push({ source, table, kind, keyStart, valueStart, end });
  });
  return rows;
}

test('operations come out by prefix, in the order added within one prefix', () => {
  const order = new WriteOrder();
  // keyStart doubles as the operation's number here.
  order.add(0, 0, 1, 0, 0, 0, 0x0102);
  order.add(0, 1, 2, 1, 1, 1, 0x0001);
  order.add(1, 0, 1, 2, 2, 2, 0x0102);
  order.add(1, 3, 1, 3, 3, 3, 0xffff);
  order.add(0, 0, 2, 4, 4, 4, 0x0001);
  assert.deepEqual(visited(order).map((row) => row.keyStart), [1, 4, 0, 2, 3]);
  assert.deepEqual(visited(order)[0], { source: 0, table: 1, kind: 2, keyStart: 1,
    valueStart: 1, end: 1 });
  assert.equal(order.length, 5);
  order.clear();
  assert.equal(order.length, 0);
  assert.deepEqual(visited(order), []);
});

test('a batch larger than the initial rows grows, and the order holds for every operation', () => {
  const order = new WriteOrder();
  const count = 5000;
  for (let index = 0; index < count; index++) {
    order.add(index % 3, 0, 1, index, index + 1, index + 2, (index * 7919) % 97);
  }
  const rows = visited(order);
  assert.equal(rows.length, count);
  const keyOf = (row: Row): number => (row.keyStart * 7919) % 97;
  for (let index = 1; index < count; index++) {
    const [before, after] = [rows[index - 1] as Row, rows[index] as Row];
    assert.ok(keyOf(before) < keyOf(after) ||
      (keyOf(before) === keyOf(after) && before.keyStart < after.keyStart));
    assert.equal(after.source, after.keyStart % 3);
  }
});

test('applied in this order, a batch leaves each key as log order does', () => {
  fc.assert(fc.property(
    fc.array(fc.record({
      key: fc.integer({ min: 0, max: 40 }),
      value: fc.option(fc.integer({ min: 0, max: 1000 })),
    }), { maxLength: 300 }),
    (operations) => {
      const inLogOrder = new Map<number, number | null>();
      operations.forEach((operation) => inLogOrder.set(operation.key, operation.value));
      const order = new WriteOrder();
      // Keys 0-40 share a few prefixes, so equal prefixes hold different keys.
      operations.forEach((operation, index) => {
        order.add(0, 0, operation.value === null ? 2 : 1, index, index, index,
          operation.key % 5);
      });
      const inWriteOrder = new Map<number, number | null>();
      order.forEach((_source, _table, _kind, index) => {
        const operation = operations[index] as (typeof operations)[number];
        inWriteOrder.set(operation.key, operation.value);
      });
      assert.deepEqual([...inWriteOrder].sort((a, b) => a[0] - b[0]),
        [...inLogOrder].sort((a, b) => a[0] - b[0]));
    }));
});
