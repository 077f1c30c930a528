/**
 * The writer thread's batch order: grouped by key prefix, in log order within a prefix,
 * without writes that a later write of their key replaces, so that applying a batch this
 * way leaves every key as applying it in log order would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WriteOrder } from '../../src/storage/write-order.js';

interface Write {
  table: number;
  key: Buffer;
  /** null: a removal. */
  value: Buffer | null;
}

interface Visited {
  source: number;
  table: number;
  kind: number;
  key: string;
  value: string | null;
}

/**
 * Lays the writes out in `sourceCount` buffers (round robin), adds them in order, and
 * returns what forEach visits, with keys and values read back from the buffers.
 */
function ordered(order: WriteOrder, writes: readonly Write[], sourceCount = 1): Visited[] {
  const parts: Buffer[][] = Array.from({ length: sourceCount }, () => []);
  const layouts: Array<[number, number, number, number]> = [];
  const lengths = new Array<number>(sourceCount).fill(0);
  writes.forEach((write, index) => {
    const source = index % sourceCount;
    const keyStart = lengths[source] as number;
    const valueStart = keyStart + write.key.length;
    const end = valueStart + (write.value?.length ?? 0);
    (parts[source] as Buffer[]).push(write.key, write.value ?? Buffer.alloc(0));
    lengths[source] = end;
    layouts.push([source, keyStart, valueStart, end]);
  });
  const sources = parts.map((each) => Buffer.concat(each));
  order.begin(sources);
  writes.forEach((write, index) => {
    const [source, keyStart, valueStart, end] = layouts[index] as [number, number, number, number];
    order.add(source, write.table, write.value === null ? 2 : 1, keyStart, valueStart, end);
  });
  const visited: Visited[] = [];
  order.forEach((source, table, kind, keyStart, valueStart, end) => {
    const bytes = sources[source] as Buffer;
    visited.push({ source, table, kind, key: bytes.toString('latin1', keyStart, valueStart),
      value: kind === 2 ? null : bytes.toString('latin1', valueStart, end) });
  });
  order.clear();
  return visited;
}

const put = (key: string, value: string, table = 0): Write =>
  ({ table, key: Buffer.from(key, 'latin1'), value: Buffer.from(value, 'latin1') });
const remove = (key: string, table = 0): Write =>
  ({ table, key: Buffer.from(key, 'latin1'), value: null });

/** Generated operations as writes: a put of the value, or a removal when it is null. */
function writesOf<T extends { table: number; value: number | null }>(
    operations: readonly T[], keyOf: (operation: T) => string): Write[] {
  return operations.map((operation) => (operation.value === null
    ? remove(keyOf(operation), operation.table)
    : put(keyOf(operation), String(operation.value), operation.table)));
}

/** Applying the writes in WriteOrder's order leaves every table and key as log order does. */
function assertSameEndState(writes: readonly Write[], sourceCount: number): void {
  const inLogOrder = new Map<string, string | null>();
  for (const write of writes) {
    inLogOrder.set(`${write.table}/${write.key.toString('latin1')}`,
      write.value?.toString('latin1') ?? null);
  }
  const applied = new Map<string, string | null>();
  for (const write of ordered(new WriteOrder(), writes, sourceCount)) {
    applied.set(`${write.table}/${write.key}`, write.value);
  }
  assert.deepEqual([...applied].sort(), [...inLogOrder].sort());
}

test('writes come out by their first two key bytes, in log order within those', () => {
  const visited = ordered(new WriteOrder(), [
    put('\x01\x02a', '1'), put('\x00\x01b', '2'), put('\x01\x02c', '3'),
    remove('\xff\xffd'), put('\x00\x01e', '5'), put('', 'empty key'), put('\x05', 'short'),
  ], 2);
  assert.deepEqual(visited.map((write) => write.key),
    ['', '\x05', '\x00\x01b', '\x00\x01e', '\x01\x02a', '\x01\x02c', '\xff\xffd']);
  assert.deepEqual(visited[6], { source: 1, table: 0, kind: 2, key: '\xff\xffd', value: null });
  assert.deepEqual(visited[2], { source: 1, table: 0, kind: 1, key: '\x00\x01b', value: '2' });
});

test('a write replaced later in the batch is left out; other tables and keys are not', () => {
  const order = new WriteOrder();
  const visited = ordered(order, [
    put('\x00\x01k', 'old'), put('\x00\x01k', 'old', 1), put('\x00\x01K', 'other key'),
    remove('\x00\x01k'), put('\x00\x01k', 'new'), put('\x00\x01kk', 'longer key'),
  ], 3);
  assert.deepEqual(visited.map((write) => [write.table, write.key, write.value]), [
    [1, '\x00\x01k', 'old'],
    [0, '\x00\x01K', 'other key'],
    [0, '\x00\x01k', 'new'],
    [0, '\x00\x01kk', 'longer key'],
  ]);
  assert.equal(order.replaced, 2);
});

test('a batch larger than the initial rows grows; a crowded prefix still ends right', () => {
  const writes: Write[] = [];
  // One prefix for all (keys sharing a hash tag): replaced writes are far apart.
  for (let index = 0; index < 5000; index++) {
    writes.push(put(`\x00\x07key${index % 50}`, `v${index}`));
  }
  const visited = ordered(new WriteOrder(), writes, 3);
  const last = new Map<string, string | null>();
  for (const write of visited) last.set(write.key, write.value);
  assert.equal(last.size, 50);
  for (let key = 0; key < 50; key++) assert.equal(last.get(`\x00\x07key${key}`), `v${4950 + key}`);
});

test('applied in this order, a batch leaves each key as log order does', () => {
  fc.assert(fc.property(
    fc.array(fc.record({
      table: fc.integer({ min: 0, max: 1 }),
      prefix: fc.integer({ min: 0, max: 2 }),
      key: fc.integer({ min: 0, max: 30 }),
      value: fc.option(fc.integer({ min: 0, max: 1000 })),
    }), { maxLength: 400 }),
    fc.integer({ min: 1, max: 3 }),
    (operations, sourceCount) => {
      assertSameEndState(writesOf(operations,
        (operation) => `\x00${String.fromCharCode(operation.prefix)}k${operation.key}`),
      sourceCount);
    }));
});

test('a large group comes out in key order; writes of one key keep their log order', () => {
  const writes: Write[] = [];
  // Keys sharing a slot (a hash tag) and a long common prefix, in random order, some twice.
  const numbers = Array.from({ length: 300 }, (_, index) => (index * 7919) % 1000);
  numbers.forEach((number, index) => {
    writes.push(put(`\x00\x07key:{tag}:${String(number).padStart(6, '0')}`, `v${index}`));
  });
  writes.push(put('\x00\x07key:{tag}:000007', 'last'));
  const visited = ordered(new WriteOrder(), [put('\x00\x01small', 's'), ...writes], 2);
  const keys = visited.map((write) => write.key);
  assert.equal(keys[0], '\x00\x01small');
  assert.deepEqual(keys.slice(1), [...new Set(keys.slice(1))].sort());
  assert.equal(visited.find((write) => write.key === '\x00\x07key:{tag}:000007')?.value, 'last');
});

test('sorted groups still leave each key as log order does', () => {
  fc.assert(fc.property(
    fc.array(fc.record({
      table: fc.integer({ min: 0, max: 1 }),
      key: fc.integer({ min: 0, max: 2000 }),
      length: fc.integer({ min: 0, max: 6 }),
      value: fc.option(fc.integer({ min: 0, max: 1000 })),
    }), { minLength: 64, maxLength: 600 }),
    fc.integer({ min: 1, max: 3 }),
    (operations, sourceCount) => {
      // Keys of various lengths in one prefix, so that some run out inside the sort window.
      assertSameEndState(writesOf(operations,
        (operation) => `\x00\x03${String(operation.key).slice(0, operation.length)}`),
      sourceCount);
    }));
});
