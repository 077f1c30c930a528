/**
 * The record cache against a model: random puts, forgets and reads of keys of random sizes
 * in a ring far too small to hold them all, so entries wrap around the ring and are
 * overwritten all the time. A hit must be the model's current value (null for a removed
 * key); a miss is allowed (the cache may drop anything), but the newest put must always be
 * a hit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachePut, RecordCache } from '../../src/storage/record-cache.js';
import { seededRandom } from '../../src/runtime/random.js';

/** Test hashes with collisions on purpose: keys k0..k63 share 16 hashes. */
function spreadHash(key: string): number {
  return Number(key.slice(1)) % 16;
}

/** The same 16 hashes all starting their probe at one index slot: long probe runs. */
function clusteredHash(key: string): number {
  return (Number(key.slice(1)) % 16) * 4096 + 3;
}

/** Distinct 30-bit hashes for distinct keys, spread over every index size. */
function mixedHash(key: string): number {
  return Math.imul(Number(key.slice(1)) + 1, 0x9e3779b1) >>> 2;
}

function run(seed: number, capacity: number, hashOf: (key: string) => number, keys = 64,
    steps = 20_000): void {
  const random = seededRandom(seed);
  const cache = new RecordCache(capacity, 200);
  const model = new Map<string, string>();
  let hits = 0;
  for (let step = 0; step < steps; step++) {
    const key = `k${Math.floor(random.next() * keys)}`;
    const hash = hashOf(key);
    const choice = random.next();
    if (choice < 0.4) {
      const value = `${step}:${'v'.repeat(Math.floor(random.next() * 120))}`;
      cache.put(Buffer.from(key), hash, Buffer.from(value));
      model.set(key, value);
      if (12 + key.length + value.length <= 200) {
        assert.equal(cache.get(Buffer.from(key), hash)?.toString(), value,
          `seed ${seed}, step ${step}: the newest put is cached`);
      } else {
        assert.equal(cache.get(Buffer.from(key), hash), undefined, 'too large to cache');
      }
    } else if (choice < 0.5) {
      cache.put(Buffer.from(key), hash, null);
      model.delete(key);
      assert.equal(cache.get(Buffer.from(key), hash), null, 'a removal is cached as absent');
    } else {
      const cached = cache.get(Buffer.from(key), hash);
      if (cached !== undefined) {
        hits++;
        assert.equal(cached?.toString(), model.get(key), `seed ${seed}, step ${step}: ${key}`);
      }
    }
    assert.ok(cache.usedBytes <= capacity, 'the ring never holds more than its capacity');
  }
  assert.ok(hits > 0, 'some random reads hit');
}

test('hits equal the model while entries wrap around a small ring', () => {
  // Capacities around the entry sizes exercise the end-of-lap marker and too-short tails.
  for (const [seed, capacity] of [[1, 257], [2, 1000], [3, 4099], [4, 211], [5, 16384]]) {
    run(seed as number, capacity as number, spreadHash);
    run(seed as number, capacity as number, clusteredHash);
  }
});

test('hits equal the model while the index grows from 16 slots to thousands', () => {
  // 6000 keys in a 512 KiB ring: the index doubles ten times (every key put sets a slot),
  // among colliding hashes too.
  run(6, 512 * 1024, mixedHash, 6000, 60_000);
  run(7, 512 * 1024, (key) => mixedHash(key) & 0xfff, 6000, 60_000);
  const cache = new RecordCache(512 * 1024, 200);
  for (let index = 0; index < 6000; index++) {
    cache.put(Buffer.from(`k${index}`), mixedHash(`k${index}`), Buffer.from(`v${index}`));
  }
  assert.equal(cache.size, 6000);
  for (let index = 0; index < 6000; index++) {
    assert.equal(cache.get(Buffer.from(`k${index}`), mixedHash(`k${index}`))?.toString(),
      `v${index}`);
  }
});

test('the oldest entries are overwritten first', () => {
  const cache = new RecordCache(1000, 1000);
  const value = Buffer.alloc(87, 'x'); // entries of 12 + 1 + 87 = 100 bytes: ten fill the ring
  for (let index = 0; index < 10; index++) cache.put(Buffer.from(`${index}`), index, value);
  assert.equal(cache.size, 10);
  cache.put(Buffer.from('a'), 10, value);
  assert.equal(cache.get(Buffer.from('0'), 0), undefined, 'the oldest entry made room');
  assert.ok(cache.get(Buffer.from('1'), 1) !== undefined, 'the next one is still there');
  assert.equal(cache.size, 10);
});

test('a value of the same length is written in place; another length is a new entry', () => {
  const cache = new RecordCache(1024, 1024);
  const key = Buffer.from('k');
  cache.put(key, 5, Buffer.from('aaaa'));
  const used = cache.usedBytes;
  cache.put(key, 5, Buffer.from('bbbb'));
  assert.equal(cache.usedBytes, used, 'no new entry for a value of the same length');
  assert.equal(cache.get(key, 5)?.toString(), 'bbbb');
  cache.put(key, 5, Buffer.from('ccccc'));
  assert.ok(cache.usedBytes > used, 'a longer value is appended');
  assert.equal(cache.get(key, 5)?.toString(), 'ccccc');
  cache.put(key, 5, null);
  const usedAfterRemoval = cache.usedBytes;
  cache.put(key, 5, null);
  assert.equal(cache.usedBytes, usedAfterRemoval, 'a removal over a removal changes nothing');
  assert.equal(cache.get(key, 5), null);
  cache.put(key, 5, Buffer.from(''));
  assert.equal(cache.get(key, 5)?.toString(), '', 'an empty value is not a removal');
  assert.equal(cache.size, 1);
});

test('keys sharing a hash are cached side by side, each with its own value', () => {
  const cache = new RecordCache(1024, 1024);
  cache.put(Buffer.from('one'), 7, Buffer.from('first'));
  assert.equal(cache.get(Buffer.from('two'), 7), undefined);
  cache.put(Buffer.from('two'), 7, Buffer.from('second'));
  assert.equal(cache.get(Buffer.from('one'), 7)?.toString(), 'first');
  assert.equal(cache.get(Buffer.from('two'), 7)?.toString(), 'second');
  cache.put(Buffer.from('one'), 7, null);
  assert.equal(cache.get(Buffer.from('one'), 7), null);
  assert.equal(cache.get(Buffer.from('two'), 7)?.toString(), 'second');
});

test('small entries are bounded by the index: the oldest go first', () => {
  // 4096 bytes give 128 index slots, at most 64 entries, long before the ring is full.
  const cache = new RecordCache(4096, 4096);
  for (let index = 0; index < 1000; index++) {
    cache.put(Buffer.from(`${index}`), index * 7919 & 0x3fffffff, Buffer.from('v'));
    assert.ok(cache.size <= 64);
  }
  assert.equal(cache.size, 64);
  for (let index = 936; index < 1000; index++) {
    assert.equal(cache.get(Buffer.from(`${index}`), index * 7919 & 0x3fffffff)?.toString(), 'v');
  }
  assert.equal(cache.get(Buffer.from('935'), 935 * 7919 & 0x3fffffff), undefined);
});

test('capacity outside 12 bytes to 2 GiB is refused', () => {
  assert.throws(() => new RecordCache(4, 4), RangeError);
  assert.throws(() => new RecordCache(2 ** 31, 100), RangeError);
});

test('the cache tells onDrop of each value it drops for room, and put of a refusal', () => {
  const dropped: string[] = [];
  const cache = new RecordCache(200, 100, (key, _hash, value) => {
    dropped.push(`${key.toString()}=${value?.toString() ?? 'absent'}`);
  });
  assert.equal(cache.put(Buffer.from('a'), 1, Buffer.alloc(40, 0x61)), CachePut.Cached);
  assert.equal(cache.put(Buffer.from('b'), 2, null), CachePut.Cached);
  // A new length for 'a' is a new entry: its older one is no longer its newest, so no call.
  assert.equal(cache.put(Buffer.from('a'), 1, Buffer.from('short')), CachePut.CachedOverValue);
  assert.deepEqual(dropped, []);
  for (let index = 0; index < 6; index++) {
    cache.put(Buffer.from(`k${index}`), 10 + index, Buffer.alloc(30, 0x6b));
  }
  assert.deepEqual(dropped.slice(0, 2), ['b=absent', 'a=short']);
  assert.equal(cache.put(Buffer.from('huge'), 3, Buffer.alloc(100)), CachePut.Refused);
  assert.equal(cache.get(Buffer.from('huge'), 3), undefined);
});

test('put says whether the key was cached with a value (the table held it)', () => {
  const cache = new RecordCache(4096, 1000);
  const key = Buffer.from('k');
  assert.equal(cache.put(key, 9, Buffer.from('one')), CachePut.Cached, 'not cached before');
  assert.equal(cache.put(key, 9, Buffer.from('two')), CachePut.CachedOverValue, 'in place');
  assert.equal(cache.put(key, 9, Buffer.from('three')), CachePut.CachedOverValue, 'new entry');
  assert.equal(cache.put(key, 9, null), CachePut.CachedOverValue, 'a removal over a value');
  assert.equal(cache.put(key, 9, null), CachePut.Cached, 'known absent before');
  assert.equal(cache.put(key, 9, Buffer.from('four')), CachePut.Cached, 'known absent before');
  // Another key of the same hash is not this key.
  assert.equal(cache.put(Buffer.from('other'), 9, Buffer.from('x')), CachePut.Cached);
  assert.equal(cache.put(Buffer.alloc(2000), 9, Buffer.from('x')), CachePut.Refused);
});
