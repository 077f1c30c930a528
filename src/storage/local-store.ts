/**
 * This node's replica of the data: records by (db, slot, key) on a StorageEngine, with the
 * bookkeeping Redis users expect to be cheap: key and expiry counts per database (DBSIZE,
 * INFO keyspace), an expiry index ordered by time for the active expiry cycle, and scans by
 * slot. Knows records and key layout; knows nothing of commands, quorums or peers.
 */
import type { Logger } from 'pino';
import { assert } from '../util/assert.js';
import { DATABASES_COUNT } from '../config/limits.js';
import type { DurabilityListener, StorageEngine, StorageTable } from './engine.js';
import { murmur3, murmur3Pair } from '../util/murmur3.js';
import {
  RECORD_HEADER_BYTES,
  StoredRecord,
  compareRecordVersions,
  recordLooksValid,
  recordProblem,
} from './record.js';
import {
  dbOf,
  isDigestForm,
  lookupKey,
  slotOf,
  slotStart,
  userKeyOf,
} from './stored-key.js';

export const SLOTS_COUNT = 16384;

/** Counts for one logical database (INFO keyspace). */
export interface DatabaseCounts {
  keys: number;
  expires: number;
}

/** One key found by a scan. */
export interface ScannedKey {
  key: Buffer;
  slot: number;
  record: StoredRecord;
}

export interface SlotPage {
  entries: Array<[Buffer, StoredRecord]>;
  next: Buffer | null;
}

export interface ScanPage {
  keys: ScannedKey[];
  /** Slot to continue from, or SLOTS_COUNT when the scan is complete. */
  nextSlot: number;
  /** Stored key to continue after within nextSlot, or null to start the slot afresh. */
  nextAfter: Buffer | null;
}

const EXPIRY_KEY_TIME_BYTES = 8;
const LOAD_PAGE_ENTRIES = 4096;
const SCAN_PAGE_ENTRIES = 1024;
const DIGEST_SEED_KEY = 0x2f1b9e45;
const DIGEST_SEED_LOW = 0x5bd1e995;
const FLUSH_PAGE_ENTRIES = 4096;

export class LocalStore {
  private readonly records: StorageTable;
  private readonly expiries: StorageTable;
  private readonly counts: DatabaseCounts[] = [];
  /**
   * Live keys per (database, slot): CLUSTER COUNTKEYSINSLOT and DBSIZE in cluster mode.
   * Kept only by a cluster member (`clusterMember`): a standalone node has no use for them,
   * and their update (a random slot's counter) was ~1.3 % of its SET -P 16.
   */
  private readonly slotKeys = new Int32Array(DATABASES_COUNT * SLOTS_COUNT);
  /**
   * A 64-bit digest per slot (two 32-bit halves): the XOR of a hash of every record in the
   * slot (all databases, tombstones included), kept up to date on every write, so replicas
   * compare slots without reading them (anti-entropy, DESIGN.md section 8). Kept only by a
   * cluster member (`clusterMember`): nothing else reads them, they cost a standalone
   * node's SET ~5 % of its time at -P 16 (three hashes a write), and `load` computes them
   * from the data when the node starts again as a cluster member.
   */
  private readonly digestHigh = new Uint32Array(SLOTS_COUNT);
  private readonly digestLow = new Uint32Array(SLOTS_COUNT);
  /** Records that failed their checksum since start (served as missing). */
  corruptRecords = 0;
  /** Keys removed by expiry since start or CONFIG RESETSTAT (INFO expired_keys). */
  expiredKeys = 0;
  /** Records written or removed since start (INFO rdb_changes_since_last_save). */
  writesCount = 0;
  loading = true;

  /** A cluster member's store keeps the slot digests and the per-slot key counts. */
  private readonly clusterMember: boolean;

  /**
   * @param clusterMember a cluster member keeps the slot digests and key counts
   *   (`slotDigest` and `keysInSlotCount` refuse otherwise) and checksums every record it
   *   writes
   */
  constructor(
    private readonly engine: StorageEngine,
    private readonly logger: Logger,
    clusterMember = true,
  ) {
    this.clusterMember = clusterMember;
    this.records = engine.table('records');
    this.expiries = engine.table('expiries');
    for (let db = 0; db < DATABASES_COUNT; db++) this.counts.push({ keys: 0, expires: 0 });
  }

  /** Counts keys per database from disk; until it finishes the node reports loading. */
  async load(): Promise<void> {
    const started = performance.now();
    let start: Buffer = Buffer.alloc(0);
    const end = Buffer.from([0xff, 0xff, 0xff]);
    let total = 0;
    for (;;) {
      const page = this.records.range(start, end, LOAD_PAGE_ENTRIES);
      for (const [stored, bytes] of page) {
        total++;
        const record = this.verified(stored, bytes);
        if (record === undefined) continue;
        if (this.clusterMember) {
          this.toggleDigest(stored, murmur3(stored, DIGEST_SEED_KEY), record.bytes);
        }
        if (record.tombstone) continue;
        const db = dbOf(stored);
        const counts = this.counts[db];
        if (counts === undefined) continue;
        counts.keys++;
        if (this.clusterMember) {
          const slotIndex = db * SLOTS_COUNT + slotOf(stored);
          this.slotKeys[slotIndex] = (this.slotKeys[slotIndex] as number) + 1;
        }
        if (record.expireAtMs !== 0) counts.expires++;
      }
      if (page.length < LOAD_PAGE_ENTRIES) break;
      start = Buffer.concat([(page[page.length - 1] as [Buffer, Buffer])[0], Buffer.from([0])]);
      // Yield between pages so the node keeps answering (LOADING) while it counts.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.loading = false;
    this.logger.info({ records: total, ms: Math.round(performance.now() - started) },
      'data loaded');
  }

  /**
   * The record stored for a key, including tombstones and expired records. Its bytes may
   * be reused by the next read or write of this store: copy them (`StoredRecord.copy`) to
   * keep the record longer.
   */
  read(db: number, slot: number, key: Buffer): StoredRecord | undefined {
    const stored = lookupKey(slot, db, key);
    const bytes = this.records.get(stored);
    if (bytes === undefined) return undefined;
    return recordLooksValid(bytes) ? new StoredRecord(bytes)
      : this.verified(Buffer.from(stored), bytes);
  }

  /** Stores a record (already encoded, versioned by the coordinator) for a key. */
  write(db: number, slot: number, key: Buffer, record: StoredRecord): void {
    this.replace(db, lookupKey(slot, db, key), record);
  }

  /**
   * What a replica does with a versioned record, whether it came from the local coordinator,
   * a peer's PEER.PUT, read repair, a hint or anti-entropy: store it unless the key holds a
   * record at least as new (last write wins on the HLC version, node tag as tie-break), so
   * every replica converges to the same record whatever order writes arrive in. One read of
   * the key. True when stored.
   */
  writeIfNewer(db: number, slot: number, key: Buffer, record: StoredRecord): boolean {
    return this.replace(db, lookupKey(slot, db, key), record, true);
  }

  /** Removes a key outright (no tombstone), as a standalone node's DEL does. */
  remove(db: number, slot: number, key: Buffer): void {
    this.replace(db, lookupKey(slot, db, key), null);
  }

  /** Tells the listener once every write made so far is durable (see the engine). */
  whenDurable(listener: DurabilityListener, token: unknown): void {
    this.engine.whenDurable(listener, token);
  }

  /** Set once the storage refuses writes (a commit or log write failed). */
  get writeFailure(): Error | null {
    return this.engine.failure;
  }

  countsOf(db: number): DatabaseCounts {
    return this.counts[db] as DatabaseCounts;
  }

  /**
   * A standalone node's records reach nothing but its own LMDB, whose writer computes their
   * CRC (record.ts, checksum pending): the coordinator may encode them without one.
   */
  get checksumsDeferred(): boolean {
    return !this.clusterMember;
  }

  /** Live keys of a database in a slot (cluster members only). */
  keysInSlotCount(db: number, slot: number): number {
    assert(this.clusterMember, 'slot key counts asked of a store that does not keep them');
    return this.slotKeys[db * SLOTS_COUNT + slot] as number;
  }

  /** Live keys of every database in one slot, at most `count` (CLUSTER GETKEYSINSLOT). */
  keysInSlot(slot: number, count: number, nowMs: number): Buffer[] {
    const keys: Buffer[] = [];
    let start = slotStart(slot);
    const end = slotStart(slot + 1);
    while (keys.length < count) {
      const entries = this.records.range(start, end, SCAN_PAGE_ENTRIES);
      for (const [stored, bytes] of entries) {
        const record = this.verified(stored, bytes);
        if (record === undefined || !record.isLive(nowMs)) continue;
        keys.push(userKeyFrom(stored, record));
        if (keys.length >= count) break;
      }
      if (entries.length < SCAN_PAGE_ENTRIES) break;
      start = Buffer.concat([(entries[entries.length - 1] as [Buffer, Buffer])[0], ZERO_BYTE]);
    }
    return keys;
  }

  /**
   * Keys of one database from (slot, after) on, in slot order, visiting at most
   * `slotsMax` slots and stopping at a slot boundary once `keysWanted` keys were found
   * (or inside a slot when it alone holds `keysMax`).
   */
  scan(db: number, slot: number, after: Buffer | null, keysWanted: number, slotsMax: number,
      keysMax: number, includeSlot: ((slot: number) => boolean) | null = null): ScanPage {
    // One ordered pass over the slots' whole range (all databases; other databases' keys
    // are skipped), rather than a seek per slot: databases other than 0 are usually empty.
    const keys: ScannedKey[] = [];
    const endSlot = Math.min(SLOTS_COUNT, slot + slotsMax);
    const end = slotStart(endSlot);
    let start = after === null ? slotStart(slot) : Buffer.concat([after, ZERO_BYTE]);
    let lastSlot = -1;
    for (;;) {
      const entries = this.records.range(start, end, SCAN_PAGE_ENTRIES);
      for (const [stored, bytes] of entries) {
        const entrySlot = slotOf(stored);
        if (keys.length >= keysWanted && entrySlot !== lastSlot) {
          return { keys, nextSlot: entrySlot, nextAfter: null };
        }
        if (dbOf(stored) !== db || (includeSlot !== null && !includeSlot(entrySlot))) continue;
        const record = this.verified(stored, bytes);
        if (record === undefined || record.tombstone) continue;
        keys.push({ key: userKeyFrom(stored, record), slot: entrySlot, record });
        lastSlot = entrySlot;
        if (keys.length >= keysMax) return { keys, nextSlot: entrySlot, nextAfter: stored };
      }
      if (entries.length < SCAN_PAGE_ENTRIES) break;
      start = Buffer.concat([(entries[entries.length - 1] as [Buffer, Buffer])[0], ZERO_BYTE]);
    }
    return { keys, nextSlot: endSlot, nextAfter: null };
  }

  /** Removes every key of one database, or of all databases with db = -1. */
  flushDatabase(db: number): void {
    // One ordered pass over the whole table: a seek per slot and database costs far more.
    let start: Buffer = Buffer.alloc(0);
    const end = slotStart(SLOTS_COUNT);
    for (;;) {
      const entries = this.records.range(start, end, FLUSH_PAGE_ENTRIES);
      for (const [stored] of entries) {
        const entryDb = dbOf(stored);
        if (db === -1 || entryDb === db) this.replace(entryDb, stored, null);
      }
      if (entries.length < FLUSH_PAGE_ENTRIES) return;
      start = Buffer.concat([(entries[entries.length - 1] as [Buffer, Buffer])[0], ZERO_BYTE]);
    }
  }

  /**
   * Removes up to `limit` records whose expiry time has passed (the active expiry cycle).
   * Returns how many expired keys it removed.
   */
  expireDue(nowMs: number, limit: number, tombstoneGraceMs: number | null = null): number {
    const end = Buffer.alloc(EXPIRY_KEY_TIME_BYTES);
    end.writeDoubleBE(nowMs + 1, 0);
    const due = this.expiries.range(Buffer.alloc(0), end, limit);
    let removed = 0;
    for (const [entry] of due) {
      const stored = entry.subarray(EXPIRY_KEY_TIME_BYTES);
      const bytes = this.records.get(stored);
      const record = bytes === undefined ? undefined : this.verified(stored, bytes);
      const due = record !== undefined && record.expireAtMs !== 0 && record.expireAtMs <= nowMs;
      if (due && record.tombstone) {
        // The grace period of a delete is over: forget it.
        this.replace(dbOf(stored), stored, null);
      } else if (due && tombstoneGraceMs !== null) {
        // With replicas, an expired key becomes a tombstone of the same version, so an older
        // value on a replica that missed the write cannot come back through repair.
        this.replace(dbOf(stored), stored, record.asTombstone(record.expireAtMs +
          tombstoneGraceMs));
        removed++;
      } else if (due) {
        this.replace(dbOf(stored), stored, null);
        removed++;
      } else {
        // The index entry is stale (the key changed since); drop only the entry.
        this.expiries.remove(entry);
      }
    }
    this.expiredKeys += removed;
    return removed;
  }

  /**
   * Writes (or, with null, removes) a stored key, keeping counts and the expiry index; with
   * `ifNewer`, only over an older record or none (one read of the key either way). True
   * when written. `stored` may be a `lookupKey` buffer: tables copy the keys they are given,
   * and nothing here makes another lookup key before its last use.
   */
  private replace(db: number, stored: Buffer, record: StoredRecord | null, ifNewer = false):
      boolean {
    const oldBytes = this.records.get(stored);
    const old = oldBytes === undefined || !recordLooksValid(oldBytes) ? undefined
      : new StoredRecord(oldBytes);
    if (ifNewer && old !== undefined && record !== null &&
        compareRecordVersions(old.bytes, record.bytes) >= 0) {
      return false;
    }
    this.writesCount++;
    const counts = this.counts[db] as DatabaseCounts;
    const slotIndex = db * SLOTS_COUNT + slotOf(stored);
    const member = this.clusterMember;
    const keyHash = member ? murmur3(stored, DIGEST_SEED_KEY) : 0;
    if (old !== undefined) {
      if (member) this.toggleDigest(stored, keyHash, old.bytes);
      const oldExpiry = old.expireAtMs;
      // Tombstones expire too (their grace period ends) but are not keys.
      if (oldExpiry !== 0) this.expiries.remove(expiryKey(oldExpiry, stored));
      if (!old.tombstone) {
        counts.keys--;
        if (member) this.slotKeys[slotIndex] = (this.slotKeys[slotIndex] as number) - 1;
        if (oldExpiry !== 0) counts.expires--;
      }
    }
    if (record === null) {
      if (oldBytes !== undefined) this.records.remove(stored);
      return true;
    }
    this.records.put(stored, record.bytes);
    if (member) this.toggleDigest(stored, keyHash, record.bytes);
    const expiry = record.expireAtMs;
    if (expiry !== 0) this.expiries.put(expiryKey(expiry, stored), EMPTY);
    if (!record.tombstone) {
      counts.keys++;
      if (member) this.slotKeys[slotIndex] = (this.slotKeys[slotIndex] as number) + 1;
      if (expiry !== 0) counts.expires++;
    }
    return true;
  }

  /**
   * Records of one slot (every database, tombstones included) in stored-key order after
   * `after`, from at most `limit` stored entries, CRC-checked: what anti-entropy and
   * streaming exchange. `next` is where the following page starts (the last key scanned,
   * corrupt ones included, so a skipped record cannot end the listing early), or null once
   * the slot is done.
   */
  slotEntries(slot: number, after: Buffer | null, limit: number): SlotPage {
    const start = after === null ? slotStart(slot) : Buffer.concat([after, ZERO_BYTE]);
    const entries: Array<[Buffer, StoredRecord]> = [];
    const scanned = this.records.range(start, slotStart(slot + 1), limit);
    for (const [stored, bytes] of scanned) {
      const record = this.verified(stored, bytes);
      if (record !== undefined) entries.push([stored, record]);
    }
    const last = scanned[scanned.length - 1];
    return { entries, next: scanned.length < limit || last === undefined ? null : last[0] };
  }

  /** The record under a stored key (a copy), or undefined. */
  readStored(stored: Buffer): StoredRecord | undefined {
    const bytes = this.records.get(stored);
    if (bytes === undefined) return undefined;
    return this.verified(stored, Buffer.from(bytes));
  }

  /** Writes a record under a stored key (repair and streaming move records this way). */
  writeStored(stored: Buffer, record: StoredRecord): void {
    this.replace(dbOf(stored), stored, record);
  }

  /**
   * `writeIfNewer` for a record addressed by its stored key (repair and streaming). The
   * record held is CRC-checked first: a corrupt one is replaced whatever its version says.
   */
  writeStoredIfNewer(stored: Buffer, record: StoredRecord): boolean {
    const current = this.readStored(stored);
    if (current !== undefined && compareRecordVersions(current.bytes, record.bytes) >= 0) {
      return false;
    }
    this.writeStored(stored, record);
    return true;
  }

  /** The digest of a slot as [high, low] 32-bit halves (0, 0 for an empty slot). */
  slotDigest(slot: number): [number, number] {
    assert(this.clusterMember, 'slot digests asked of a store that does not keep them');
    return [this.digestHigh[slot] as number, this.digestLow[slot] as number];
  }

  /**
   * Adds or removes (XOR) one record's hash in its slot's digest; `keyHash` is the stored
   * key's murmur3 with DIGEST_SEED_KEY.
   */
  private toggleDigest(stored: Buffer, keyHash: number, recordBytes: Buffer): void {
    const slot = slotOf(stored);
    // The header holds the version, flags, expiry and the CRC of the rest (value, full key):
    // hashing it with the stored key identifies the record exactly.
    murmur3Pair(recordBytes, keyHash, keyHash ^ DIGEST_SEED_LOW, RECORD_HEADER_BYTES,
      recordHashes);
    this.digestHigh[slot] = ((this.digestHigh[slot] as number) ^
      (recordHashes[0] as number)) >>> 0;
    this.digestLow[slot] = ((this.digestLow[slot] as number) ^
      (recordHashes[1] as number)) >>> 0;
  }

  /**
   * The record if its bytes are valid; corrupt records count and read as missing. Once
   * loaded, a standalone node also reads its own writes whose checksum is pending (from
   * memory, before the writer stored them); at load every record comes from LMDB, where
   * none may be.
   */
  private verified(stored: Buffer, bytes: Buffer): StoredRecord | undefined {
    const problem = recordProblem(bytes, this.checksumsDeferred && !this.loading);
    if (problem === null) return new StoredRecord(bytes);
    this.corruptRecords++;
    this.logger.error({ slot: stored.readUInt16BE(0), keyBytes: stored.length, problem },
      'corrupt record read as missing');
    return undefined;
  }
}

const EMPTY = Buffer.alloc(0);
/** toggleDigest's two record hashes (high, low half of the digest). */
const recordHashes = new Uint32Array(2);
const ZERO_BYTE = Buffer.from([0]);

function expiryKey(expireAtMs: number, stored: Buffer): Buffer {
  const key = Buffer.allocUnsafe(EXPIRY_KEY_TIME_BYTES + stored.length);
  key.writeDoubleBE(expireAtMs, 0);
  key.set(stored, EXPIRY_KEY_TIME_BYTES);
  return key;
}

function userKeyFrom(stored: Buffer, record: StoredRecord): Buffer {
  if (isDigestForm(stored)) return record.fullKey ?? userKeyOf(stored);
  return userKeyOf(stored);
}
