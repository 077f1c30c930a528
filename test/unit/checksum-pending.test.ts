/**
 * A standalone node's records leave the coordinator with their checksum pending
 * (src/storage/record.ts): the store must read them back from memory as valid, the LMDB
 * writer thread must store them complete, and so must the replay of a commit log after a
 * crash. A cluster member never makes such records and reads one as corrupt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LogOperation } from '../../src/storage/commit-log.js';
import { TABLE_NAMES } from '../../src/storage/engine.js';
import { LmdbEngine } from '../../src/storage/lmdb-engine.js';
import { applyOperations, openDatabases } from '../../src/storage/lmdb-open.js';
import { LocalStore } from '../../src/storage/local-store.js';
import {
  encodeRecord,
  recordProblem,
  StoredRecord,
  ValueType,
  type RecordFields,
} from '../../src/storage/record.js';
import { storedKey } from '../../src/storage/stored-key.js';

const logger = pino({ level: 'silent' });
const SLOT = 4321;
const KEYS = 12;
const NOW_MS = 1_800_000_000_000;

function fieldsOf(index: number): RecordFields {
  return {
    version: { physicalMs: 1000 + index, logical: index, nodeTag: 9 }, tombstone: false,
    type: ValueType.String,
    // Every third key has expired by NOW_MS, every other third expires later.
    expireAtMs: index % 3 === 0 ? NOW_MS - 1 : index % 3 === 1 ? NOW_MS + 60_000 : 0,
    value: Buffer.from(`value-${index}-${'v'.repeat(index * 7)}`), fullKey: null,
  };
}

function keyOf(index: number): Buffer {
  return Buffer.from(`key-${String(index).padStart(2, '0')}`);
}

function scannedKeys(store: LocalStore): string[] {
  return store.scan(0, SLOT, null, 1000, 1, 1000).keys.map((each) => each.key.toString());
}

/** The raw bytes LMDB holds for each key (the engine closed: no overlay, no cache). */
async function storedBytes(dir: string): Promise<Array<Buffer | undefined>> {
  const { root, tables } = openDatabases({ path: join(dir, 'ringkv.mdb') });
  try {
    const records = tables[TABLE_NAMES.indexOf('records')];
    return Array.from({ length: KEYS }, (_, index) => {
      const bytes = records?.getBinary(storedKey(SLOT, 0, keyOf(index)));
      return bytes === undefined ? undefined : Buffer.from(bytes);
    });
  } finally {
    await root.close();
  }
}

/** An engine on `dir` and a store over it, loaded. */
async function openStore(dir: string, clusterMember: boolean):
    Promise<{ engine: LmdbEngine; store: LocalStore }> {
  const engine = new LmdbEngine({ dir, durability: 'no', logger });
  await engine.open();
  const store = new LocalStore(engine, logger, clusterMember);
  await store.load();
  return { engine, store };
}

test('a standalone store reads its pending-checksum records; LMDB gets them complete',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringkv-pending-crc-'));
    const { engine, store } = await openStore(dir, false);
    try {
      assert.equal(store.checksumsDeferred, true);
      for (let index = 0; index < KEYS; index++) {
        store.write(0, SLOT, keyOf(index), new StoredRecord(encodeRecord(fieldsOf(index), false)));
      }
      // Read back from memory, before the writer thread stored anything.
      const all = Array.from({ length: KEYS }, (_, index) => keyOf(index).toString());
      assert.deepEqual(scannedKeys(store), all);
      assert.equal(store.countsOf(0).keys, KEYS);
      assert.equal(store.expireDue(NOW_MS, 1000), KEYS / 3);
      const live = all.filter((_, index) => index % 3 !== 0);
      assert.deepEqual(scannedKeys(store), live);
      await engine.flush();
      assert.deepEqual(scannedKeys(store), live);
      assert.equal(store.corruptRecords, 0);
    } finally {
      await engine.close();
    }
    try {
      (await storedBytes(dir)).forEach((bytes, index) => {
        if (index % 3 === 0) {
          assert.equal(bytes, undefined, `expired key ${index} removed`);
          return;
        }
        assert.ok(bytes !== undefined, `key ${index} stored`);
        assert.equal(recordProblem(bytes), null, `key ${index} complete in LMDB`);
        assert.deepEqual(bytes, encodeRecord(fieldsOf(index)));
      });
      // Loaded again, as a standalone node or as a cluster member, every record is valid.
      for (const clusterMember of [false, true]) {
        const reopened = await openStore(dir, clusterMember);
        try {
          assert.equal(reopened.store.countsOf(0).keys, KEYS - KEYS / 3);
          assert.equal(reopened.store.corruptRecords, 0);
        } finally {
          await reopened.engine.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test('the commit-log replay stores pending-checksum records complete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-pending-replay-'));
  const path = join(dir, 'ringkv.mdb');
  try {
    const databases = openDatabases({ path });
    try {
      applyOperations(databases, Array.from({ length: KEYS }, (_, index) => ({
        table: TABLE_NAMES.indexOf('records'), kind: LogOperation.Put,
        key: storedKey(SLOT, 0, keyOf(index)), value: encodeRecord(fieldsOf(index), false),
      })));
    } finally {
      await databases.root.close();
    }
    (await storedBytes(dir)).forEach((bytes, index) => {
      assert.ok(bytes !== undefined);
      assert.deepEqual(bytes, encodeRecord(fieldsOf(index)), `key ${index} complete`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cluster member reads a pending-checksum record as corrupt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-pending-member-'));
  const { engine, store } = await openStore(dir, true);
  try {
    assert.equal(store.checksumsDeferred, false);
    store.write(0, SLOT, keyOf(1), new StoredRecord(encodeRecord(fieldsOf(1))));
    store.write(0, SLOT, keyOf(2), new StoredRecord(encodeRecord(fieldsOf(2), false)));
    assert.deepEqual(scannedKeys(store), [keyOf(1).toString()]);
    assert.equal(store.corruptRecords, 1);
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
