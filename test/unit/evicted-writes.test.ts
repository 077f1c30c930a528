/**
 * Values the record cache dropped while pending: each is kept until every table write
 * pending when it came is committed, and a later value of its key replaces it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvictedWrites } from '../../src/storage/evicted-writes.js';

const text = (value: Buffer | null | undefined): string | null | undefined =>
  value === undefined || value === null ? value : value.toString();

test('a kept value goes once the writes pending when it came are committed', () => {
  const evicted = new EvictedWrites();
  evicted.add(Buffer.from('a'), 1, Buffer.from('a1'), 3);
  evicted.add(Buffer.from('b'), 2, null, 5);
  evicted.add(Buffer.from('a'), 1, Buffer.from('a2'), 9);
  assert.equal(text(evicted.get(Buffer.from('a'), 1)), 'a2', 'the later value replaces');
  assert.equal(text(evicted.get(Buffer.from('b'), 2)), null, 'an absence is kept too');
  evicted.release(2);
  assert.equal(evicted.size, 3);
  evicted.release(5);
  assert.equal(evicted.size, 1);
  assert.equal(evicted.get(Buffer.from('b'), 2), undefined);
  assert.equal(text(evicted.get(Buffer.from('a'), 1)), 'a2');
  evicted.release(9);
  assert.equal(evicted.size, 0);
  assert.equal(evicted.get(Buffer.from('a'), 1), undefined);
});

test('many values through many releases: each is kept exactly until its mark', () => {
  const evicted = new EvictedWrites();
  let mark = 0;
  for (let round = 0; round < 200; round++) {
    for (let index = 0; index < 50; index++) {
      mark += 1;
      evicted.add(Buffer.from(`k${round}-${index}`), (round * 50 + index) % 1000,
        Buffer.alloc(20, index), mark);
    }
    // The writer commits all but the last 30 writes.
    evicted.release(mark - 30);
    assert.equal(evicted.size, 30);
    assert.ok(evicted.get(Buffer.from(`k${round}-49`), (round * 50 + 49) % 1000) !== undefined);
  }
  evicted.release(mark);
  assert.equal(evicted.size, 0);
});
