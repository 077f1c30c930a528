/**
 * The coordinator runs KeyOperations against the data (DESIGN.md sections 1 and 5).
 *
 * When every key's only replica is this node (a standalone node, or a one-member cluster)
 * the operation runs locally: reads are synchronous, the whole operation is atomic, and the
 * reply is held until the store reports the write durable. Otherwise it is coordinated
 * across each key's preference list with the client's R and W (distributed-operation.ts),
 * and its reply takes a deferred slot in the connection's reply order.
 */
import { keySlot } from '../cluster/key-slot.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { callbackListener } from '../storage/engine.js';
import type { LocalStore } from '../storage/local-store.js';
import { SLOTS_COUNT } from '../storage/local-store.js';
import { encodeRecord, StoredRecord, ValueType } from '../storage/record.js';
import { isLongKey, storedKey } from '../storage/stored-key.js';
import type { HintStore } from './hints.js';
import { HybridLogicalClock } from '../versioning/hlc.js';
import type { Version } from '../versioning/version.js';
import {
  DELETE,
  type Change,
  type KeyOperation,
  type KeyValueService,
  type LiveValue,
  type ReplyTarget,
  type ScanResult,
} from './key-value-service.js';
import { ScanCursors } from './scan-cursors.js';
import { IndexedList } from '../util/indexed-list.js';
import { KeyLocks } from './key-locks.js';
import type { ClusterView } from './cluster-view.js';
import { requiredReplicas } from './consistency.js';
import {
  DistributedOperation,
  type KeyPlan,
  type OperationContext,
} from './distributed-operation.js';
import type { Ring } from '../cluster/ring.js';

/** Counters INFO reports (stats section). */
export interface CoordinatorStats {
  keyspaceHits: number;
  keyspaceMisses: number;
  expiredKeys: number;
  readRepairs: number;
  quorumFailures: number;
}

/**
 * Slots a SCAN call may cover: all of them. A call is one ordered pass that stops at a slot
 * boundary once COUNT keys were found, so a small database is returned whole (as Redis does)
 * and the work per call stays bounded by the keys it walks.
 */
const SCAN_SLOTS_PER_CALL = SLOTS_COUNT;
/** Keys returned at most by one SCAN call, whatever COUNT says (bounds reply size). */
const SCAN_KEYS_PER_CALL_MAX = 100_000;

export interface CoordinatorSettings {
  /** A distributed operation fails after this long without its quorums. */
  requestTimeoutMs: number;
  /** Tombstones are kept this long so hints and repair spread deletes before purging. */
  tombstoneGraceMs: number;
  /** Distributed operations in flight at most; beyond it requests get TRYAGAIN. */
  inflightMax: number;
  /** Keep writes for failed replicas as hints (hinted handoff). */
  hintedHandoff: boolean;
  /** Count durable hints toward W. */
  sloppyQuorum: boolean;
  /** Percent of reads that ask every replica instead of R (read repair of all of them). */
  readRepairPercent: number;
  /** A read still short of R answers this long after it started asks every replica. */
  speculativeRetryMs: number;
}

const SWEEP_INTERVAL_MS = 20;

export class Coordinator implements KeyValueService {
  readonly stats: CoordinatorStats = { keyspaceHits: 0, keyspaceMisses: 0, expiredKeys: 0,
    readRepairs: 0, quorumFailures: 0 };
  private readonly hlc: HybridLogicalClock;
  private readonly cursors = new ScanCursors();
  private readonly inflight = new IndexedList<DistributedOperation>();
  private readonly keyLocks = new KeyLocks<DistributedOperation>(SLOTS_COUNT,
    (operation) => this.begin(operation));
  private readonly context: OperationContext;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping = false;
  private ringSeen: Ring | null = null;
  /** Where hints for failed replicas go (cluster mode), or null. */
  hints: HintStore | null = null;
  private selfIndex = -1;
  /** ringSeen's only member is this node. */
  private aloneInRing = false;

  constructor(
    private readonly store: LocalStore,
    private readonly clock: Clock,
    private readonly random: Random,
    nodeTag: number,
    private readonly view: ClusterView,
    private readonly settings: CoordinatorSettings,
  ) {
    this.hlc = new HybridLogicalClock(nodeTag);
    this.context = this.operationContext();
  }

  /**
   * From now on distributed operations past their deadline fail (or, slow to read, ask more
   * replicas). The timer runs only while some are in flight: a single node, or an idle
   * one, used to wake 50 times a second for nothing.
   */
  start(): void {
    this.sweeping = true;
  }

  stop(): void {
    this.sweeping = false;
    this.stopSweep();
    for (const operation of this.inflight.snapshot()) operation.timeout();
  }

  private startSweep(): void {
    if (!this.sweeping || this.sweepTimer !== null) return;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** A version stored from elsewhere: this node's later writes must be newer than it. */
  observeVersion(version: Version): void {
    this.hlc.observe(version);
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  execute(target: ReplyTarget, db: number, operation: KeyOperation): void {
    const ring = this.view.ring();
    const keys = operation.keys;
    const slots = keys.length === 1 ? slotOf(keys[0] as Buffer) : -1;
    if (this.holdsAlone(ring, slots, keys)) {
      this.executeLocally(target, db, operation, slots);
    } else {
      this.executeDistributed(target, db, operation, ring, slots);
    }
  }

  replyWithValue(target: ReplyTarget, db: number, key: Buffer): boolean {
    const slot = this.slotHeldAlone(key);
    if (slot === -1) return false;
    const record = this.readLive(db, key, slot, null);
    if (record === undefined) target.writer.nil();
    else target.writer.bulk(record.value);
    return true;
  }

  storeValue(target: ReplyTarget, db: number, key: Buffer, value: Buffer): boolean {
    const slot = this.slotHeldAlone(key);
    if (slot === -1) return false;
    if (this.refusesWrites(target)) return true;
    // As executeLocally: reply, write, and let the reply leave once the write is durable.
    target.writer.ok();
    this.store.write(db, slot, key, this.valueRecord(key, value, 0, this.clock.nowMs(),
      this.localChecksum));
    this.store.whenDurable(target, target.hold());
    return true;
  }

  /**
   * The slot of `key` when this node alone holds it (a single node's fast paths), else -1.
   * A replicated ring answers before the key is hashed (a CRC16 that execute repeats).
   */
  private slotHeldAlone(key: Buffer): number {
    const ring = this.view.ring();
    if (ring.effectiveReplicas !== 1) return -1;
    const slot = slotOf(key);
    return this.holdsAlone(ring, slot) ? slot : -1;
  }

  /** Writes MISCONF and returns true when the store refuses writes (after a failed write). */
  private refusesWrites(target: ReplyTarget): boolean {
    const failure = this.store.writeFailure;
    if (failure === null) return false;
    target.writer.error(`MISCONF Errors writing to the data store: ${failure.message}`);
    return true;
  }

  private executeLocally(target: ReplyTarget, db: number, operation: KeyOperation,
      slots: number): void {
    const nowMs = this.clock.nowMs();
    const keys = operation.keys;
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
    if (hasChanges(changes) && this.refusesWrites(target)) return;
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
      if (change === DELETE) {
        this.store.remove(keyDb, slot, key);
      } else {
        const record = this.versionedRecord(key, change, values[index], nowMs,
          this.localChecksum);
        this.store.write(keyDb, slot, key, record);
      }
      wrote = true;
    }
    // The reply leaves once the writes are as durable as appendfsync promises.
    if (wrote) this.store.whenDurable(target, target.hold());
  }

  /** `singleSlot`: the slot of a single key, -1 with several keys. */
  private executeDistributed(target: ReplyTarget, db: number, operation: KeyOperation,
      ring: Ring, singleSlot: number): void {
    if (this.keyLocks.operations >= this.settings.inflightMax) {
      target.writer.error('TRYAGAIN too many requests in flight on this node, retry later');
      return;
    }
    const { read, write } = target.consistency;
    const keys = operation.keys;
    const plans: KeyPlan[] = new Array(keys.length);
    // Operations on the same key run one after the other (see key-locks.ts); the reply
    // keeps its place in the connection's reply order either way.
    const slots: number[] = new Array(keys.length);
    const ids: string[] = new Array(keys.length);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index] as Buffer;
      const slot = singleSlot === -1 ? slotOf(key) : singleSlot;
      const replicas = ring.replicaIds(slot);
      const keyDb = databaseOf(operation, db, index);
      plans[index] = {
        key,
        db: keyDb,
        slot,
        replicas,
        readRequired: requiredReplicas(read, replicas.length),
        writeRequired: requiredReplicas(write, replicas.length),
        sloppy: this.settings.sloppyQuorum,
      };
      slots[index] = slot;
      ids[index] = `${keyDb}:${key.latin1Slice()}`;
    }
    this.keyLocks.acquire(new DistributedOperation(this.context, target, operation, plans),
      slots, ids);
  }

  /** No earlier operation holds any of its keys any more: the operation starts. */
  private begin(operation: DistributedOperation): void {
    operation.startedMs = this.clock.monotonicMs();
    operation.deadlineMs = operation.startedMs + this.settings.requestTimeoutMs;
    this.inflight.add(operation);
    this.startSweep();
    operation.start();
  }

  /**
   * True when this node is the only replica (a single node) of `slot`, or with slot -1 of
   * every key's slot: the operation runs locally.
   */
  private holdsAlone(ring: Ring, slot: number, keys?: readonly Buffer[]): boolean {
    if (ring.effectiveReplicas !== 1) return false;
    if (ring !== this.ringSeen) {
      this.ringSeen = ring;
      this.selfIndex = ring.indexOf(this.view.selfId);
      this.aloneInRing = ring.members.length === 1 && this.selfIndex === 0;
    }
    // A ring of this node alone holds every slot: no look-up in the slot table, a cache
    // miss that was ~1 % of a standalone node's SET -P 16.
    if (this.aloneInRing) return true;
    if (slot !== -1) return ring.primaryOf(slot) === this.selfIndex;
    for (const key of keys as readonly Buffer[]) {
      if (ring.primaryOf(slotOf(key)) !== this.selfIndex) return false;
    }
    return true;
  }

  private sweep(): void {
    if (this.inflight.size === 0) {
      this.stopSweep();
      return;
    }
    const nowMs = this.clock.monotonicMs();
    const speculateBeforeMs = nowMs - this.settings.speculativeRetryMs;
    for (const operation of this.inflight.snapshot()) {
      if (operation.deadlineMs <= nowMs) operation.timeout();
      else if (operation.waitingForReads && operation.startedMs <= speculateBeforeMs) {
        operation.speculate();
      }
    }
  }

  private operationContext(): OperationContext {
    const store = this.store;
    const view = this.view;
    return {
      selfId: view.selfId,
      get replicationFactor() {
        return view.ring().replicationFactor;
      },
      isDown: (replica) => view.isDown(replica),
      readLocal: (plan) => store.read(plan.db, plan.slot, plan.key)?.copy() ?? null,
      writeLocal: (plan, record, listener, token) => {
        store.writeIfNewer(plan.db, plan.slot, plan.key, record);
        store.whenDurable(listener, token);
      },
      sendToPeer: (replica, args, callback) => {
        const peer = view.peer(replica);
        if (peer === null) callback(new Error(`no link to ${replica}`), null);
        else peer.send(args, callback);
      },
      recordFor: (plan, change, read, nowMs) =>
        this.versionedRecord(plan.key, change, read ?? undefined, nowMs),
      nowMs: () => this.clock.nowMs(),
      finished: (operation) => {
        this.inflight.delete(operation);
      },
      replied: (operation) => {
        this.keyLocks.release(operation);
      },
      readAll: () => this.settings.readRepairPercent > 0 &&
        this.random.next() * 100 < this.settings.readRepairPercent,
      countReadRepair: () => {
        this.stats.readRepairs++;
      },
      hint: (replica, plan, record, listener, token) => {
        const hints = this.hints;
        if (hints === null || !this.settings.hintedHandoff) return false;
        const stored = storedKey(plan.slot, plan.db, plan.key);
        if (!hints.add(replica, stored, record, this.clock.nowMs())) return false;
        store.whenDurable(listener, token);
        return true;
      },
    };
  }

  /**
   * The record a distributed write stores: versioned after every version it read (so a
   * read-modify-write always supersedes what it read), a delete as a tombstone that expires
   * after the grace period.
   */
  private versionedRecord(key: Buffer, change: Exclude<Change, null>,
      read: StoredRecord | undefined, nowMs: number, checksum = true): StoredRecord {
    if (read !== undefined) this.hlc.observe(read);
    if (change === DELETE) {
      return new StoredRecord(encodeRecord({ version: this.hlc.now(nowMs), tombstone: true,
        type: ValueType.String, expireAtMs: nowMs + this.settings.tombstoneGraceMs,
        value: EMPTY, fullKey: isLongKey(key) ? key : null }, checksum));
    }
    return this.valueRecord(key, change.value, change.expireAtMs, nowMs, checksum);
  }

  /** A string value's record, versioned now (`checksum`: see `localChecksum`). */
  private valueRecord(key: Buffer, value: Buffer, expireAtMs: number, nowMs: number,
      checksum = true): StoredRecord {
    return new StoredRecord(encodeRecord({ version: this.hlc.now(nowMs), tombstone: false,
      type: ValueType.String, expireAtMs, value, fullKey: isLongKey(key) ? key : null },
      checksum));
  }

  /**
   * Whether records written locally carry their CRC: a standalone node's leave it to the
   * LMDB writer (record.ts, checksum pending); a cluster member's may reach peers later
   * (read repair, anti-entropy, streaming), so they always carry it.
   */
  private get localChecksum(): boolean {
    return !this.store.checksumsDeferred;
  }

  /**
   * In cluster mode a node's DBSIZE, SCAN, KEYS and RANDOMKEY cover the slots it presents
   * as master, as in Redis Cluster (tools iterate the masters); otherwise every slot.
   */
  databaseSize(db: number): number {
    const presented = this.presentedSlots();
    if (presented === null) return this.store.countsOf(db).keys;
    let total = 0;
    for (let slot = 0; slot < SLOTS_COUNT; slot++) {
      if (presented(slot)) total += this.store.keysInSlotCount(db, slot);
    }
    return total;
  }

  /** The slots this node answers scans for, or null for all of them. */
  private presentedSlots(): ((slot: number) => boolean) | null {
    if (!this.view.clusterMode) return null;
    const ring = this.view.ring();
    const self = ring.indexOf(this.view.selfId);
    return (slot) => ring.primaryOf(slot) === self;
  }

  scan(db: number, cursor: number, count: number,
      filter: (key: Buffer, value: LiveValue) => boolean): ScanResult {
    if (this.store.countsOf(db).keys === 0) return { keys: [], cursor: 0 };
    const position = this.cursors.resolve(cursor);
    const keysMax = Math.min(Math.max(count, 1) * 10, SCAN_KEYS_PER_CALL_MAX);
    const page = this.store.scan(db, position.slot, position.after, count, SCAN_SLOTS_PER_CALL,
      keysMax, this.presentedSlots());
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
    // From a random slot to the end, then from slot 0: the first live key found wins.
    for (const [from, slots] of [[startSlot, SLOTS_COUNT - startSlot], [0, startSlot]]) {
      let slot = from as number;
      const end = (from as number) + (slots as number);
      while (slot < end) {
        const page = this.store.scan(db, slot, null, 1, end - slot, 64, this.presentedSlots());
        for (const found of page.keys) {
          if (found.record.isLive(nowMs)) return found.key;
        }
        if (page.keys.length === 0) break;
        slot = page.nextSlot;
      }
    }
    return null;
  }

  flush(db: number, done: (error: Error | null) => void): void {
    this.store.flushDatabase(db);
    this.store.whenDurable(callbackListener(done), null);
  }

  /**
   * The key's value if it is live; an expired one is removed on the way (lazy expiry).
   * `nowMs` null: the clock is read only for a key that has an expiry.
   */
  private readLive(db: number, key: Buffer, slot: number, nowMs: number | null):
      LiveValue | undefined {
    const record = this.store.read(db, slot, key);
    if (record === undefined || record.tombstone) {
      this.stats.keyspaceMisses++;
      return undefined;
    }
    const expireAtMs = record.expireAtMs;
    if (expireAtMs !== 0 && expireAtMs <= (nowMs ?? this.clock.nowMs())) {
      this.store.remove(db, slot, key);
      this.stats.expiredKeys++;
      this.stats.keyspaceMisses++;
      return undefined;
    }
    this.stats.keyspaceHits++;
    return record;
  }


}

function slotOf(key: Buffer): number {
  return keySlot(key);
}

const EMPTY = Buffer.alloc(0);

function hasChanges(changes: readonly Change[]): boolean {
  for (const change of changes) if (change !== null) return true;
  return false;
}

function databaseOf(operation: KeyOperation, db: number, index: number): number {
  const databases = operation.keyDatabases;
  return databases === null ? db : (databases[index] as number);
}
