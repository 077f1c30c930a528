/**
 * The coordinator runs KeyOperations against the data. On a single node (replication
 * factor 1) every key's only replica is the local store: reads are synchronous, the whole
 * operation is atomic, and the reply is held until the store reports the write durable.
 */
import { keySlot } from '../cluster/key-slot.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { callbackListener } from '../storage/engine.js';
import type { LocalStore } from '../storage/local-store.js';
import { SLOTS_COUNT } from '../storage/local-store.js';
import { encodeRecord, StoredRecord, ValueType } from '../storage/record.js';
import { isLongKey } from '../storage/stored-key.js';
import { HybridLogicalClock } from '../versioning/hlc.js';
import {
  DELETE,
  type Change,
  type KeyOperation,
  type KeyValueService,
  type LiveValue,
  type ReplyTarget,
  type ScanResult,
  type SetChange,
} from './key-value-service.js';
import { ScanCursors } from './scan-cursors.js';

/** Counters INFO reports (stats section). */
export interface CoordinatorStats {
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
}

/** Slots visited per SCAN call when they hold fewer keys than COUNT asked for. */
const SCAN_SLOTS_PER_CALL = 4096;
/** Keys returned at most by one SCAN call, whatever COUNT says (bounds reply size). */
const SCAN_KEYS_PER_CALL_MAX = 100_000;

export class Coordinator implements KeyValueService {
  readonly stats: CoordinatorStats = { keyspaceHits: 0, keyspaceMisses: 0, expiredKeys: 0 };
  private readonly hlc: HybridLogicalClock;
  private readonly cursors = new ScanCursors();

  constructor(
    private readonly store: LocalStore,
    private readonly clock: Clock,
    private readonly random: Random,
    nodeTag: number,
  ) {
    this.hlc = new HybridLogicalClock(nodeTag);
  }

  execute(target: ReplyTarget, db: number, operation: KeyOperation): void {
    const nowMs = this.clock.nowMs();
    const keys = operation.keys;
    const slots = keys.length === 1 ? slotOf(keys[0] as Buffer) : -1;
    const values: Array<LiveValue | undefined> = new Array(keys.length);
    if (operation.readsValues) {
      // A read may reuse the previous read's bytes: with several keys, keep copies.
      const copies = keys.length > 1;
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index] as Buffer;
        const value = this.readLive(databaseOf(operation, db, index), key,
          slots === -1 ? slotOf(key) : slots, nowMs);
        values[index] = copies && value !== undefined ? value.copy() : value;
      }
    }
    const changes = operation.apply(values, nowMs);
    const failure = this.store.writeFailure;
    if (failure !== null && hasChanges(changes)) {
      target.writer.error(`MISCONF Errors writing to the data store: ${failure.message}`);
      return;
    }
    // Reply before writing: the reply may point into read bytes the writes' reads reuse.
    operation.reply(target.writer);
    let wrote = false;
    for (let index = 0; index < changes.length; index++) {
      const change = changes[index] as Change;
      if (change === null) continue;
      const key = keys[index] as Buffer;
      const keyDb = databaseOf(operation, db, index);
      const slot = slots === -1 ? slotOf(key) : slots;
      // A single node has no replica that could miss a delete: remove outright.
      if (change === DELETE) this.store.remove(keyDb, slot, key);
      else this.store.write(keyDb, slot, key, this.recordFor(key, change, nowMs));
      wrote = true;
    }
    // The reply leaves once the writes are as durable as appendfsync promises.
    if (wrote) this.store.whenDurable(target, target.hold());
  }

  databaseSize(db: number): number {
    return this.store.countsOf(db).keys;
  }

  scan(db: number, cursor: number, count: number,
      filter: (key: Buffer, value: LiveValue) => boolean): ScanResult {
    if (this.store.countsOf(db).keys === 0) return { keys: [], cursor: 0 };
    const position = this.cursors.resolve(cursor);
    const keysMax = Math.min(Math.max(count, 1) * 10, SCAN_KEYS_PER_CALL_MAX);
    const page = this.store.scan(db, position.slot, position.after, count, SCAN_SLOTS_PER_CALL,
      keysMax);
    const nowMs = this.clock.nowMs();
    const keys: Buffer[] = [];
    for (const found of page.keys) {
      if (!found.record.isLive(nowMs)) continue;
      if (filter(found.key, found.record)) keys.push(found.key);
    }
    const next = page.nextSlot >= SLOTS_COUNT ? 0 : this.cursors.issue(page.nextSlot,
      page.nextAfter);
    return { keys, cursor: next };
  }

  randomKey(db: number): Buffer | null {
    if (this.store.countsOf(db).keys === 0) return null;
    const nowMs = this.clock.nowMs();
    const startSlot = Math.floor(this.random.next() * SLOTS_COUNT);
    // Walk slots from a random one; the first live key found wins. Bounded: two passes.
    for (let visited = 0; visited < SLOTS_COUNT; visited += SCAN_SLOTS_PER_CALL) {
      const slot = (startSlot + visited) % SLOTS_COUNT;
      const page = this.store.scan(db, slot, null, 1, SCAN_SLOTS_PER_CALL, 64);
      for (const found of page.keys) {
        if (found.record.isLive(nowMs)) return found.key;
      }
    }
    return null;
  }

  flush(db: number, done: (error: Error | null) => void): void {
    if (db === -1) {
      for (let index = 0; index < 16; index++) this.store.flushDatabase(index);
    } else {
      this.store.flushDatabase(db);
    }
    this.store.whenDurable(callbackListener(done), null);
  }

  /** The key's value if it is live; an expired one is removed on the way (lazy expiry). */
  private readLive(db: number, key: Buffer, slot: number, nowMs: number): LiveValue | undefined {
    const record = this.store.read(db, slot, key);
    if (record === undefined || record.tombstone) {
      this.stats.keyspaceMisses++;
      return undefined;
    }
    if (record.expireAtMs !== 0 && record.expireAtMs <= nowMs) {
      this.store.remove(db, slot, key);
      this.stats.expiredKeys++;
      this.stats.keyspaceMisses++;
      return undefined;
    }
    this.stats.keyspaceHits++;
    return record;
  }

  private recordFor(key: Buffer, change: SetChange, nowMs: number): StoredRecord {
    return new StoredRecord(encodeRecord({
      version: this.hlc.now(nowMs),
      tombstone: false,
      type: ValueType.String,
      expireAtMs: change.expireAtMs,
      value: change.value,
      fullKey: isLongKey(key) ? key : null,
    }));
  }

}

function slotOf(key: Buffer): number {
  return keySlot(key);
}

function hasChanges(changes: readonly Change[]): boolean {
  for (const change of changes) if (change !== null) return true;
  return false;
}

function databaseOf(operation: KeyOperation, db: number, index: number): number {
  const databases = operation.keyDatabases;
  return databases === null ? db : (databases[index] as number);
}
