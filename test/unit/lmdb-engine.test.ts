/**
 * The LMDB engine's reads against a model: puts, removes, reads and range reads of a few
 * keys in random order, with commits landing in between (flush) and a reopen at the end.
 * Every read must equal the model's value, whether it comes from the pending overlay or
 * from LMDB. Two of the keys share their overlay hash, so the collision chains are used (and
 * the record cache's shared slot).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { StorageTable } from '../../src/storage/engine.js';
import { LmdbEngine, overlayHash } from '../../src/storage/lmdb-engine.js';
import { seededRandom } from '../../src/runtime/random.js';
import { RECORD_CACHE_BYTES } from '../../src/config/limits.js';

const logger = pino({ level: 'silent' });
const KEYS = 40;
const STEPS = 3000;

/** Two distinct keys with the same overlay hash (found by brute force, birthday bound). */
function collidingKeys(): [string, string] {
  const seen = new Map<number, string>();
  for (let index = 0; index < 1_000_000; index++) {
    const key = `collide-${index}`;
    const hash = overlayHash(Buffer.from(key));
    const other = seen.get(hash);
    if (other !== undefined) return [other, key];
    seen.set(hash, key);
  }
  throw new Error('no colliding keys found');
}

const COLLIDING = collidingKeys();
const ALL_KEYS = [...Array.from({ length: KEYS }, (_, index) => `key-${index}`), ...COLLIDING];

/** Every entry from 'a' to 'z', read `limit` at a time as a slot scan reads them. */
function pagedRange(table: StorageTable, limit: number): Array<[Buffer, Buffer]> {
  const all: Array<[Buffer, Buffer]> = [];
  let start = Buffer.from('a');
  for (;;) {
    const page = table.range(start, Buffer.from('z'), limit);
    assert.ok(page.length <= limit, `a page of ${page.length} entries for a limit of ${limit}`);
    all.push(...page);
    if (page.length < limit) return all;
    start = Buffer.concat([(page[page.length - 1] as [Buffer, Buffer])[0], Buffer.from([0])]);
  }
}

/**
 * Runs the model; returns the most values the engine kept for reads because the record
 * cache dropped (or refused) them before they were committed.
 */
async function run(seed: number, recordCacheBytes = RECORD_CACHE_BYTES): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-engine-'));
  const random = seededRandom(seed);
  const model = new Map<string, string>();
  let mostEvicted = 0;
  // With a small cache some values are larger than it can take.
  const largeBytes = recordCacheBytes < 1000 ? recordCacheBytes : 0;
  let engine = new LmdbEngine({ dir, durability: 'no', logger, recordCacheBytes });
  try {
    await engine.open();
    let table = engine.table('records');
    for (let step = 0; step < STEPS; step++) {
      const key = ALL_KEYS[Math.floor(random.next() * ALL_KEYS.length)] as string;
      const choice = random.next();
      if (choice < 0.35) {
        const padding = largeBytes > 0 && random.next() < 0.1 ? largeBytes
          : Math.floor(random.next() * 40);
        const value = `${key}=${step}:${'x'.repeat(padding)}`;
        table.put(Buffer.from(key), Buffer.from(value));
        model.set(key, value);
        mostEvicted = Math.max(mostEvicted, engine.evictedWrites);
      } else if (choice < 0.45) {
        table.remove(Buffer.from(key));
        model.delete(key);
      } else if (choice < 0.48) {
        await engine.flush();
        assert.equal(engine.evictedWrites, 0, 'values kept for reads go once committed');
      } else if (choice < 0.5) {
        // In one read, or in pages of a few keys (LMDB and the overlay merged page by page).
        const limit = random.next() < 0.5 ? 1000 : 1 + Math.floor(random.next() * 5);
        const listed = pagedRange(table, limit)
          .map(([listedKey, value]) => `${listedKey.toString()}=>${value.toString()}`);
        const expected = [...model].sort(([a], [b]) => Buffer.compare(Buffer.from(a),
          Buffer.from(b))).map(([modelKey, value]) => `${modelKey}=>${value}`);
        assert.deepEqual(listed, expected, `seed ${seed}, step ${step}: range`);
      } else {
        assert.equal(table.get(Buffer.from(key))?.toString(), model.get(key),
          `seed ${seed}, step ${step}: ${key}`);
      }
    }
    await engine.close();
    engine = new LmdbEngine({ dir, durability: 'no', logger, recordCacheBytes });
    await engine.open();
    table = engine.table('records');
    for (const key of ALL_KEYS) {
      assert.equal(table.get(Buffer.from(key))?.toString(), model.get(key), `reopened: ${key}`);
    }
    // Once the key filter's scan is done it answers for keys the table never had.
    await engine.keyFiltersBuilt();
    for (const key of ALL_KEYS) {
      assert.equal(table.get(Buffer.from(key))?.toString(), model.get(key), `filtered: ${key}`);
    }
    for (let index = 0; index < 100; index++) {
      assert.equal(table.get(Buffer.from(`never-${index}`)), undefined);
    }
    assert.ok(engine.keyFilterSkips >= 90, `${engine.keyFilterSkips} reads skipped LMDB`);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return mostEvicted;
}

test('reads equal a model through pending writes, commits and a reopen', async () => {
  for (const seed of [1, 2, 3, 4]) await run(seed);
});

test('reads equal the model with a record cache too small for the keys', async () => {
  // About ten entries fit: the cache drops and refills entries all the time, and refuses
  // the largest values, so reads come from the cache, the values it dropped while they
  // were pending, and LMDB in every order.
  for (const seed of [5, 6, 7, 8]) {
    assert.ok(await run(seed, 600) > 0, 'the cache dropped pending values');
  }
});

test('the key filter keeps every key through its scan and a rebuild larger', async () => {
  // More keys than the smallest filter is sized for: the filter grows (a second scan) while
  // keys keep coming, some only in LMDB, some only pending, some put during the scans.
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-engine-'));
  // A filter for 64k keys (the default is for 512k): 150k keys make it rebuild larger.
  const options = { dir, durability: 'no' as const, logger, recordCacheBytes: 4096,
    keyFilterBitsMin: 1 << 20 };
  let engine = new LmdbEngine(options);
  const keyOf = (index: number): Buffer => Buffer.from(`filtered-key-${index}`);
  const KEYS_TOTAL = 150_000;
  try {
    await engine.open();
    let table = engine.table('records');
    for (let index = 0; index < 20_000; index++) table.put(keyOf(index), keyOf(index));
    await engine.close();
    engine = new LmdbEngine(options);
    await engine.open();
    table = engine.table('records');
    // Put while the first scan runs, commit some, leave the rest pending.
    for (let index = 20_000; index < 60_000; index++) table.put(keyOf(index), keyOf(index));
    await engine.flush();
    for (let index = 60_000; index < KEYS_TOTAL; index++) table.put(keyOf(index), keyOf(index));
    await engine.keyFiltersBuilt();
    // Started at the minimum, so a larger filter means a rebuild.
    assert.equal(engine.keyFilterBitsMin, options.keyFilterBitsMin);
    assert.ok(engine.keyFilterBytes > options.keyFilterBitsMin / 8,
      `rebuilt larger: ${engine.keyFilterBytes} bytes`);
    // Committed: reads of every key now pass the filter (the overlay no longer has them).
    await engine.flush();
    for (let index = 0; index < KEYS_TOTAL; index += 7) {
      assert.equal(table.get(keyOf(index))?.toString(), keyOf(index).toString(), `key ${index}`);
    }
    const skipsBefore = engine.keyFilterSkips;
    for (let index = KEYS_TOTAL; index < KEYS_TOTAL + 1000; index++) {
      assert.equal(table.get(keyOf(index)), undefined);
    }
    assert.ok(engine.keyFilterSkips - skipsBefore >= 950,
      `${engine.keyFilterSkips - skipsBefore} of 1000 absent keys skipped LMDB`);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writes that overflow a batch read back through the commit of the batch before', async () => {
  // Two 5 MiB values (too large for the record cache: the overlay alone holds them until
  // LMDB does) in separate turns: the second overflows the 8 MiB batch, so the first goes
  // to the writer without it. That commit must not count the second as committed (it once
  // did, and reads of it came back empty until the next batch's commit).
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-engine-'));
  const valueOf = (name: string): Buffer => {
    const value = Buffer.alloc(5 * 1024 * 1024, name);
    value.write(`start of ${name}`, 0);
    return value;
  };
  const first = valueOf('first');
  const second = valueOf('second');
  let engine = new LmdbEngine({ dir, durability: 'no', logger });
  const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
  try {
    await engine.open();
    let table = engine.table('records');
    table.put(Buffer.from('first'), first);
    await turn();
    table.put(Buffer.from('second'), second);
    await turn();
    // The first batch commits meanwhile; the second waits for the handoff timer.
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      assert.ok(table.get(Buffer.from('second'))?.equals(second), 'second value before flush');
      await turn();
    }
    await engine.flush();
    assert.ok(table.get(Buffer.from('second'))?.equals(second), 'second value after flush');
    await engine.close();
    engine = new LmdbEngine({ dir, durability: 'no', logger });
    await engine.open();
    table = engine.table('records');
    assert.ok(table.get(Buffer.from('first'))?.equals(first), 'first value after reopen');
    assert.ok(table.get(Buffer.from('second'))?.equals(second), 'second value after reopen');
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
