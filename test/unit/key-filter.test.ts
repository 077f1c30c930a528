/**
 * The key filter: never a false negative, a false positive rate near what its size
 * promises, and a request to grow once it holds twice the keys it was sized for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FILTER_BITS_MAX, FILTER_BITS_MIN, FILTER_BITS_PER_KEY, KeyFilter,
} from '../../src/storage/key-filter.js';
import { seededRandom } from '../../src/runtime/random.js';

function hashes(seed: number, count: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Math.floor(random.next() * 2 ** 30));
}

test('every key added is reported as maybe present', () => {
  const filter = new KeyFilter(200_000);
  const added = hashes(1, 200_000);
  for (const hash of added) filter.add(hash);
  for (const hash of added) assert.ok(filter.mayContain(hash), `hash ${hash}`);
  // A key that finds its bits set already (a false positive) is not counted.
  assert.ok(filter.added > 199_000 && filter.added <= 200_000, `${filter.added} added`);
});

test('keys never added are mostly reported absent at the size asked for', () => {
  const filter = new KeyFilter(100_000);
  for (const hash of hashes(2, 100_000)) filter.add(hash);
  const absent = hashes(3, 100_000);
  const falsePositives = absent.filter((hash) => filter.mayContain(hash)).length;
  // Three bits in a 512-bit block at 16 bits per key: about 0.5 %; 2 % allows for blocks.
  assert.ok(falsePositives < 2_000, `${falsePositives} false positives of 100000`);
  assert.ok(!new KeyFilter(10).mayContain(12345), 'an empty filter holds nothing');
});

test('a filter sizes itself in powers of two within bounds and asks to grow when crowded', () => {
  const small = new KeyFilter(0);
  assert.equal(small.bits, FILTER_BITS_MIN);
  const keysAtMinimum = FILTER_BITS_MIN / FILTER_BITS_PER_KEY;
  assert.equal(new KeyFilter(keysAtMinimum).bits, FILTER_BITS_MIN);
  assert.equal(new KeyFilter(keysAtMinimum + 1).bits, 2 * FILTER_BITS_MIN);
  assert.equal(new KeyFilter(10 ** 9).bits, FILTER_BITS_MAX);
  const keysFit = small.bits / FILTER_BITS_PER_KEY;
  // Overwrites of keys already in it do not count: it must follow keys, not writes.
  for (let round = 0; round < 50; round++) {
    for (let hash = 0; hash < 1000; hash++) small.add(hash);
  }
  assert.equal(small.added, 1000);
  const distinct = hashes(4, 3 * keysFit);
  let index = 0;
  while (!small.crowded) small.add(distinct[index++] as number);
  // Crowded at about twice the keys it was sized for (false positives are not counted).
  assert.ok(index + 1000 > 2 * keysFit && index + 1000 < 2.2 * keysFit, `crowded after ${index}`);
});
