/**
 * LocalStore.slotEntries pages through one slot for anti-entropy and streaming. A corrupt
 * record is left out of a page but must not end the listing: the next page starts after
 * the last key scanned, so every valid record of the slot is listed exactly once whatever
 * the page size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { LocalStore } from '../../src/storage/local-store.js';
import { encodeRecord, StoredRecord, ValueType } from '../../src/storage/record.js';
import { storedKey } from '../../src/storage/stored-key.js';

const SLOT = 1234;
const KEYS = 20;

test('pages of a slot list every valid record once, past corrupt ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-slot-entries-'));
  const logger = pino({ level: 'silent' });
  const engine = new LmdbEngine({ dir, durability: 'no', logger });
  try {
    await engine.open();
    const store = new LocalStore(engine, logger);
    await store.load();
    const keys = Array.from({ length: KEYS },
      (_, index) => `key-${String(index).padStart(2, '0')}`);
    keys.forEach((key, index) => {
      store.write(0, SLOT, Buffer.from(key), new StoredRecord(encodeRecord({
        version: { physicalMs: 1000 + index, logical: 0, nodeTag: 1 }, tombstone: false,
        type: ValueType.String, expireAtMs: 0, value: Buffer.from(`value-${index}`),
        fullKey: null })));
    });
    // Two records corrupted on disk (a flipped byte fails the CRC).
    const corrupt = new Set(['key-04', 'key-05']);
    for (const key of corrupt) {
      const stored = storedKey(SLOT, 0, Buffer.from(key));
      const bytes = Buffer.from(engine.table('records').get(stored) as Buffer);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
      engine.table('records').put(stored, bytes);
    }
    const expected = keys.filter((key) => !corrupt.has(key));
    for (const limit of [1, 2, 3, 5, 6, 7, KEYS, KEYS + 5]) {
      const listed: string[] = [];
      let after: Buffer | null = null;
      for (let pages = 0; pages <= KEYS + 1; pages++) {
        const page = store.slotEntries(SLOT, after, limit);
        for (const [stored] of page.entries) {
          listed.push(stored.subarray(stored.length - 6).toString());
        }
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(listed, expected, `page size ${limit}`);
    }
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a standalone store keeps no digests or slot counts; loaded as a cluster node it has them',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkv-digests-'));
    const logger = pino({ level: 'silent' });
    const record = (index: number): StoredRecord => new StoredRecord(encodeRecord({
      version: { physicalMs: 5000 + index, logical: index, nodeTag: 7 }, tombstone: false,
      type: ValueType.String, expireAtMs: 0, value: Buffer.from(`v${index}`), fullKey: null }));
    let engine = new LmdbEngine({ dir, durability: 'no', logger });
    try {
      await engine.open();
      // The same writes (and overwrites) to a standalone store here and to a cluster one.
      const standalone = new LocalStore(engine, logger, false);
      await standalone.load();
      for (let index = 0; index < 30; index++) {
        const key = Buffer.from(`key-${index % 12}`);
        standalone.write(0, SLOT + (index % 3), key, record(index));
      }
      assert.throws(() => standalone.slotDigest(SLOT), /does not keep them/);
      assert.throws(() => standalone.keysInSlotCount(0, SLOT), /does not keep them/);
      assert.equal(standalone.countsOf(0).keys, 12);
      await engine.close();
      engine = new LmdbEngine({ dir, durability: 'no', logger });
      await engine.open();
      const reloaded = new LocalStore(engine, logger, true);
      await reloaded.load();
      const fresh = mkdtempSync(join(tmpdir(), 'ringkv-digests-fresh-'));
      const other = new LmdbEngine({ dir: fresh, durability: 'no', logger });
      try {
        await other.open();
        const kept = new LocalStore(other, logger, true);
        await kept.load();
        for (let index = 0; index < 30; index++) {
          kept.write(0, SLOT + (index % 3), Buffer.from(`key-${index % 12}`), record(index));
        }
        for (const slot of [SLOT, SLOT + 1, SLOT + 2, SLOT + 3]) {
          assert.deepEqual(reloaded.slotDigest(slot), kept.slotDigest(slot), `slot ${slot}`);
          assert.equal(reloaded.keysInSlotCount(0, slot), kept.keysInSlotCount(0, slot));
        }
        assert.notDeepEqual(kept.slotDigest(SLOT), [0, 0]);
      } finally {
        await other.close();
        rmSync(fresh, { recursive: true, force: true });
      }
    } finally {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
