/**
 * StorageEngine on LMDB (lmdb-js) behind a commit log (see commit-log.ts), with LMDB
 * written by a dedicated thread (lmdb-writer.ts).
 *
 * The writes of one event-loop turn form a group. When the turn ends the group is appended
 * to the commit log with one write(2); groups gather for HANDOFF_MS and go to the writer
 * thread in one message, which it applies to LMDB in one transaction. Until the writer
 * reports a group committed, its writes live in an in-memory overlay that reads consult
 * first, so clients read their own writes at once.
 *
 * Durability (redis.conf appendfsync), i.e. when `whenDurable` reports a write:
 *  - 'always':   after its group is in the commit log and fdatasync'ed;
 *  - 'everysec': after its group is in the commit log (a process crash cannot lose it); the
 *                log is fdatasync'ed every second, so power loss loses at most ~1 s;
 *  - 'no':       as 'everysec', without the periodic fdatasync (the OS flushes).
 * LMDB commits are plain synchronous commits (data, fsync, meta, fsync; see lmdb-open.ts),
 * which keep the data file intact on power loss; a commit-log segment is deleted only once
 * LMDB has flushed every group in it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database, RootDatabase, Transaction } from 'lmdb';
import type { Logger } from 'pino';
import { assert } from '../util/assert.js';
import { murmur3 } from '../util/murmur3.js';
import { CommitLog, GroupBuilder, LogOperation } from './commit-log.js';
import {
  TABLE_NAMES,
  type Durability,
  type DurabilityListener,
  type StorageEngine,
  type StorageTable,
  type TableName,
} from './engine.js';
import { applyOperations, openDatabases } from './lmdb-open.js';
import { RecordCache } from './record-cache.js';
import { RECORD_CACHE_BYTES, RECORD_CACHE_ENTRY_BYTES_MAX } from '../config/limits.js';


/** The writes of one event-loop turn. */
interface Group {
  sequence: number;
  writes: PendingWrite[];
  listeners: DurabilityListener[];
  tokens: unknown[];
}

/**
 * One write waiting in the overlay until the writer thread commits it; compared by
 * identity when its commit settles (two removes of a key are both null).
 *
 * Its key and value bytes live in an arena slab shared by many writes (see `Arena`), not
 * in Buffers of their own: a write stays reachable for up to HANDOFF_MS and more, and every
 * young-generation collection in that time copies what is reachable. One small object per
 * write instead of three (this, the key's and the value's Buffer views) cut the main
 * thread's scavenge time under SET by about 30 % (bench/RESULTS.md).
 */
class PendingWrite {
  /** The next pending write of another key with the same hash (a collision chain). */
  next: PendingWrite | null = null;

  constructor(
    readonly table: LmdbTable,
    private readonly slab: Buffer,
    private readonly keyStart: number,
    private readonly keyEnd: number,
    /** End of the value after the key in the slab; -1 for a remove. */
    private readonly valueEnd: number,
    /** overlayHash of the key: the overlay's Map key. */
    readonly hash: number,
  ) {}

  get key(): Buffer {
    return this.slab.subarray(this.keyStart, this.keyEnd);
  }

  /** The value written (a view of the slab, never overwritten), or null for a remove. */
  get value(): Buffer | null {
    return this.valueEnd < 0 ? null : this.slab.subarray(this.keyEnd, this.valueEnd);
  }

  hasKey(key: Buffer): boolean {
    const start = this.keyStart;
    const length = key.length;
    if (this.keyEnd - start !== length) return false;
    const slab = this.slab;
    for (let index = 0; index < length; index++) {
      if (slab[start + index] !== key[index]) return false;
    }
    return true;
  }
}

const ARENA_SLAB_BYTES = 1024 * 1024;
/** Writes larger than this get a slab of their own (a slab is freed with its last write). */
const ARENA_OWN_SLAB_BYTES = 64 * 1024;

/** Append-only slabs holding the key and value bytes of pending writes. */
class Arena {
  private slab = Buffer.allocUnsafeSlow(ARENA_SLAB_BYTES);
  private used = 0;

  place(table: LmdbTable, key: Buffer, hash: number, value: Buffer | null): PendingWrite {
    const bytes = key.length + (value === null ? 0 : value.length);
    let slab = this.slab;
    let start = this.used;
    if (bytes > ARENA_OWN_SLAB_BYTES) {
      slab = Buffer.allocUnsafeSlow(bytes);
      start = 0;
    } else {
      if (start + bytes > slab.length) {
        slab = Buffer.allocUnsafeSlow(ARENA_SLAB_BYTES);
        this.slab = slab;
        start = 0;
      }
      this.used = start + bytes;
    }
    const keyEnd = start + key.length;
    slab.set(key, start);
    if (value !== null) slab.set(value, keyEnd);
    return new PendingWrite(table, slab, start, keyEnd,
      value === null ? -1 : keyEnd + value.length, hash);
  }
}

type WriterMessage =
  | { type: 'committed'; sequence: number; buffers: ArrayBuffer[] }
  | { type: 'flushed'; sequence: number }
  | { type: 'error'; message: string }
  | { type: 'closed' };

export interface LmdbEngineOptions {
  dir: string;
  durability: Durability;
  logger: Logger;
  /** Bytes of the records table's cache (default RECORD_CACHE_BYTES; tests make it small). */
  recordCacheBytes?: number;
}

const EVERYSEC_SYNC_MS = 1000;
/**
 * How long logged groups gather before they go to the writer thread in one message. With
 * 100k random keys, 500 ms batches made SET -P 1 about a third faster than 100 ms ones on
 * 2 cores (fewer pages copied and written per put, fewer writer wake-ups); the overlay and
 * the commit log hold the batch meanwhile.
 */
const HANDOFF_MS = 500;
const STAGING_BYTES_MIN = 64 * 1024;
/** Staged bytes that are handed over at once (bounds the copy and the transaction). */
const STAGING_BYTES_MAX = 8 * 1024 * 1024;
/** Staging buffers kept for reuse (one in the writer's hands, one ready). */
const STAGING_SPARES_MAX = 2;

export class LmdbEngine implements StorageEngine {
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly tables = new Map<TableName, LmdbTable>();
  private readonly log: CommitLog;
  private readonly path: string;
  private readonly builder = new GroupBuilder();
  private readonly arena = new Arena();
  private writer: Worker | null = null;
  private group: Group | null = null;
  /** Groups handed to the writer and not yet committed, oldest first. */
  private uncommitted: Group[] = [];
  private lastSequence = 0;
  private flushedSequence = 0;
  private flushWaiters: Array<{ sequence: number; resolve: () => void }> = [];
  /** Groups written to the log whose fdatasync ('always') has not completed. */
  private syncsInFlight = 0;
  private syncListeners: DurabilityListener[] = [];
  private syncTokens: unknown[] = [];
  /** Set when a log write or an LMDB commit failed; writes are refused from then on. */
  failure: Error | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly sealBound = (): void => this.seal();
  /** Logged groups not yet handed to the writer thread (see `stage`). */
  private staging: Buffer = Buffer.allocUnsafeSlow(STAGING_BYTES_MIN);
  private staged = 0;
  /**
   * Staging buffers the writer gave back, for the next handoffs: a fresh multi-megabyte
   * buffer every HANDOFF_MS cost page faults to fill and an munmap (a TLB shootdown across
   * cores) to free.
   */
  private spareStaging: ArrayBuffer[] = [];
  private handoffTimer: NodeJS.Timeout | null = null;
  private readonly handOffBound = (): void => this.handOff();

  constructor(private readonly options: LmdbEngineOptions) {
    this.path = join(options.dir, 'ringkv.mdb');
    this.log = new CommitLog(options.dir, options.logger);
    const { root, tables } = openDatabases({ path: this.path });
    this.root = root;
    TABLE_NAMES.forEach((name, index) => {
      // Only records are read by key on the hot path; the expiry index is read by range.
      const cache = name === 'records'
        ? new RecordCache(options.recordCacheBytes ?? RECORD_CACHE_BYTES,
          RECORD_CACHE_ENTRY_BYTES_MAX) : null;
      this.tables.set(name,
        new LmdbTable(tables[index] as Database<Buffer, Buffer>, index, this, cache));
    });
  }

  /** Replays what a crash left in the commit log, then starts the writer thread. */
  async open(): Promise<void> {
    const operations = this.log.recover();
    if (operations.length > 0) {
      const tables = TABLE_NAMES.map((name) => (this.tables.get(name) as LmdbTable).database);
      applyOperations({ root: this.root, tables }, operations);
      await this.root.flushed;
      this.options.logger.info({ operations: operations.length },
        'replayed the commit log into the data file');
    }
    this.log.discardRecovered();
    this.renewSnapshot();
    this.startWriter();
    this.startPeriodicSync();
  }

  setDurability(durability: Durability): void {
    this.options.durability = durability;
    this.startPeriodicSync();
  }

  table(name: TableName): StorageTable {
    const table = this.tables.get(name);
    assert(table !== undefined, `unknown table ${name}`);
    return table;
  }

  /** Writes of the engine's tables end up here: overlay, then the turn's group. */
  record(table: LmdbTable, tableIndex: number, key: Buffer, hash: number, value: Buffer | null):
      void {
    let group = this.group;
    if (group === null) {
      group = { sequence: 0, writes: [], listeners: [], tokens: [] };
      this.group = group;
      setImmediate(this.sealBound);
    }
    const write = this.arena.place(table, key, hash, value);
    table.setPending(write);
    group.writes.push(write);
    this.builder.add(tableIndex, value === null ? LogOperation.Remove : LogOperation.Put, key,
      value);
  }

  whenDurable(listener: DurabilityListener, token: unknown): void {
    if (this.group !== null) {
      this.group.listeners.push(listener);
      this.group.tokens.push(token);
    } else if (this.syncsInFlight > 0) {
      this.syncListeners.push(listener);
      this.syncTokens.push(token);
    } else {
      listener.durable(token, this.failure);
    }
  }

  /** Resolves when everything written so far is committed and flushed in LMDB. */
  async flush(): Promise<void> {
    this.seal();
    this.handOff();
    const sequence = this.lastSequence;
    if (this.flushedSequence < sequence) {
      await new Promise<void>((resolve) => this.flushWaiters.push({ sequence, resolve }));
    }
    if (this.failure !== null) throw this.failure;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    const writer = this.writer;
    if (writer !== null) {
      const closed = new Promise<void>((resolve) => {
        writer.on('message', (message: WriterMessage) => {
          if (message.type === 'closed') resolve();
        });
      });
      writer.postMessage({ type: 'close' });
      await closed;
      await writer.terminate();
    }
    this.readOptions.transaction?.done();
    await this.root.close();
    // Everything in the log is flushed in LMDB now.
    this.log.closeClean();
  }

  sizeBytes(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  /** The records table's cache (INFO reports its hits, misses and size). */
  get recordCache(): RecordCache {
    return (this.tables.get('records') as LmdbTable).cache as RecordCache;
  }

  /** Writes waiting for the writer thread (backlog of the overlay). */
  get pendingWrites(): number {
    let count = 0;
    for (const group of this.uncommitted) count += group.writes.length;
    return count;
  }

  /** Ends the turn's group: log it, report it per durability, hand it to the writer. */
  private seal(): void {
    const group = this.group;
    if (group === null) return;
    this.group = null;
    let bytes: Buffer;
    try {
      bytes = this.builder.finish();
      group.sequence = this.log.append(bytes);
    } catch (error) {
      this.fail(error as Error);
      report(group.listeners, group.tokens, error as Error);
      return;
    }
    this.lastSequence = group.sequence;
    // The writer gets its own copy, taken before anything else runs: reporting durability
    // releases replies, which can resume a paused client whose buffered commands write
    // again, into the builder's (reused) buffer.
    this.stage(bytes);
    this.uncommitted.push(group);
    this.reportDurable(group);
  }

  /**
   * Copies a logged group into the staging buffer the writer gets next. Groups gather for
   * HANDOFF_MS (or STAGING_BYTES_MAX) and go over in one message, applied in one LMDB
   * transaction: each put into a random key copies a 4 KiB page once per transaction, so
   * larger transactions write fewer pages per put, and every message wakes the writer
   * thread, which on a small machine preempts this one (bench/RESULTS.md).
   */
  private stage(bytes: Buffer): void {
    if (this.staged + bytes.length > this.staging.length) {
      const grown = Buffer.allocUnsafeSlow(
        Math.max(this.staging.length * 2, this.staged + bytes.length));
      this.staging.copy(grown, 0, 0, this.staged);
      this.staging = grown;
    }
    this.staging.set(bytes, this.staged);
    this.staged += bytes.length;
    if (this.staged >= STAGING_BYTES_MAX) {
      this.handOff();
    } else if (this.handoffTimer === null) {
      this.handoffTimer = setTimeout(this.handOffBound, HANDOFF_MS);
    }
  }

  /** Transfers the staged groups to the writer thread. */
  private handOff(): void {
    if (this.handoffTimer !== null) clearTimeout(this.handoffTimer);
    this.handoffTimer = null;
    if (this.staged === 0) return;
    const staging = this.staging;
    const length = this.staged;
    // The next buffer starts at about this batch's size: allocation follows the write rate.
    this.staging = this.stagingBuffer(Math.max(STAGING_BYTES_MIN, length));
    this.staged = 0;
    const bytes = staging.buffer as ArrayBuffer;
    this.writer?.postMessage({ type: 'apply', sequence: this.lastSequence, bytes, length },
      [bytes]);
  }

  /** A spare staging buffer of at least `bytes`, or a new one. */
  private stagingBuffer(bytes: number): Buffer {
    const spares = this.spareStaging;
    while (spares.length > 0) {
      const spare = spares.pop() as ArrayBuffer;
      if (spare.byteLength >= bytes) return Buffer.from(spare);
    }
    return Buffer.allocUnsafeSlow(bytes);
  }

  private reportDurable(group: Group): void {
    if (this.options.durability !== 'always') {
      report(group.listeners, group.tokens, this.failure);
      return;
    }
    this.syncsInFlight++;
    this.log.sync((error) => {
      this.syncsInFlight--;
      if (error !== null) this.fail(error);
      report(group.listeners, group.tokens, this.failure);
      if (this.syncsInFlight === 0 && this.syncListeners.length > 0) {
        const listeners = this.syncListeners;
        const tokens = this.syncTokens;
        this.syncListeners = [];
        this.syncTokens = [];
        report(listeners, tokens, this.failure);
      }
    });
  }

  /**
   * Reads use a read transaction we own, replaced after every commit of the writer thread:
   * lmdb-js's implicit per-turn read transaction was seen serving a snapshot older than a
   * commit it had been told about, which made deleted keys reappear for a moment.
   */
  readonly readOptions: { transaction?: Transaction } = {};

  private renewSnapshot(): void {
    const old = this.readOptions.transaction;
    old?.done();
    this.root.resetReadTxn();
    this.readOptions.transaction = this.root.useReadTransaction();
  }

  private startWriter(): void {
    const writer = new Worker(new URL('./lmdb-writer.js', import.meta.url), {
      workerData: { path: this.path },
    });
    writer.on('message', (message: WriterMessage) => this.onWriterMessage(message));
    writer.on('error', (error) => this.fail(error));
    this.writer = writer;
  }

  private onWriterMessage(message: WriterMessage): void {
    switch (message.type) {
      case 'committed': {
        // Reads move to a snapshot with the commit before the overlay lets go of its writes.
        this.renewSnapshot();
        let index = 0;
        while (index < this.uncommitted.length &&
            (this.uncommitted[index] as Group).sequence <= message.sequence) {
          settleGroup(this.uncommitted[index] as Group);
          index++;
        }
        this.uncommitted = this.uncommitted.slice(index);
        for (const buffer of message.buffers) {
          if (this.spareStaging.length < STAGING_SPARES_MAX) this.spareStaging.push(buffer);
        }
        break;
      }
      case 'flushed':
        this.flushedSequence = Math.max(this.flushedSequence, message.sequence);
        this.log.release(message.sequence);
        this.flushWaiters = this.flushWaiters.filter((waiter) => {
          if (waiter.sequence > this.flushedSequence) return true;
          waiter.resolve();
          return false;
        });
        break;
      case 'error':
        this.fail(new Error(message.message));
        break;
      case 'closed':
        break;
    }
  }

  /**
   * A log write or an LMDB commit failed. Acknowledged writes stay readable (their overlay
   * entries are kept) and are in the commit log, which replays them at the next start; new
   * writes are refused until then.
   */
  private fail(error: Error): void {
    if (this.failure === null) {
      this.options.logger.error({ err: error }, 'storage write failed; refusing writes');
    }
    this.failure = error;
    for (const waiter of this.flushWaiters) waiter.resolve();
    this.flushWaiters = [];
  }

  private startPeriodicSync(): void {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    this.syncTimer = null;
    if (this.options.durability !== 'everysec') return;
    this.syncTimer = setInterval(() => {
      this.log.sync((error) => {
        if (error !== null) this.fail(error);
      });
    }, EVERYSEC_SYNC_MS);
    this.syncTimer.unref();
  }
}

function report(listeners: DurabilityListener[], tokens: unknown[], error: Error | null): void {
  for (let index = 0; index < listeners.length; index++) {
    (listeners[index] as DurabilityListener).durable(tokens[index], error);
  }
}

/** Drops the group's overlay entries, except those a later write replaced. */
function settleGroup(group: Group): void {
  const writes = group.writes;
  for (let index = 0; index < writes.length; index++) {
    const write = writes[index] as PendingWrite;
    write.table.settle(write);
  }
}

/**
 * A table: LMDB plus the overlay of writes the writer thread has not committed yet (one
 * handoff interval of writes, more while the writer lags). The overlay is keyed by a 30-bit
 * hash of the key, with a chain for the rare keys that share one: hashing a key Buffer is
 * cheaper than making a string of it, and integer keys keep the Map fast at tens of
 * thousands of entries. Range reads filter the overlay linearly: they are rare next to
 * point reads and writes.
 *
 * Point reads try the table's RecordCache (when it has one) first, then the overlay, then
 * LMDB. The cache is kept equal to the table by every put and remove, so a hit is the
 * current value; it may drop any entry at any time, so a miss says nothing, and the overlay
 * (which keeps every uncommitted write) decides before LMDB does.
 */
class LmdbTable implements StorageTable {
  private readonly overlay = new Map<number, PendingWrite>();
  constructor(
    readonly database: Database<Buffer, Buffer>,
    private readonly index: number,
    private readonly engine: LmdbEngine,
    /** Recently read and written values (record-cache.ts); null for tables read by range. */
    readonly cache: RecordCache | null,
  ) {}

  get(key: Buffer): Buffer | undefined {
    const hash = overlayHash(key);
    // A cached value is the newest (every put refreshes it, every remove drops it), so a
    // hit needs no look at the overlay.
    const cache = this.cache;
    if (cache !== null) {
      const cached = cache.get(key, hash);
      if (cached !== undefined) return cached;
    }
    if (this.overlay.size > 0) {
      const pending = this.pending(key, hash);
      if (pending !== null) return pending.value ?? undefined;
    }
    const bytes = readFast(this.database, key, this.engine.readOptions);
    if (bytes === undefined) return undefined;
    // lmdb-js returns its reused read buffer with an own `length` property set to the value's
    // size; a real view of exactly the value keeps subarray/copy semantics honest.
    const value = bytes.subarray(0, bytes.length);
    cache?.put(key, hash, value);
    return value;
  }

  put(key: Buffer, value: Buffer): void {
    const hash = overlayHash(key);
    this.engine.record(this, this.index, key, hash, value);
    this.cache?.put(key, hash, value);
  }

  remove(key: Buffer): void {
    const hash = overlayHash(key);
    this.engine.record(this, this.index, key, hash, null);
    this.cache?.forget(key, hash);
  }

  /** The pending write of `key`, or null. */
  private pending(key: Buffer, hash: number): PendingWrite | null {
    for (let write = this.overlay.get(hash) ?? null; write !== null; write = write.next) {
      if (write.hasKey(key)) return write;
    }
    return null;
  }

  /** The newest write of its key: it replaces a pending write of the same key. */
  setPending(write: PendingWrite): void {
    const head = this.overlay.get(write.hash);
    if (head === undefined) {
      this.overlay.set(write.hash, write);
      return;
    }
    write.next = unlinked(head, write.key, null);
    this.overlay.set(write.hash, write);
  }

  /** The writer committed this write: drop its overlay entry unless a later write owns it. */
  settle(write: PendingWrite): void {
    const head = this.overlay.get(write.hash);
    if (head === undefined) return;
    const rest = unlinked(head, null, write);
    if (rest === head) return;
    if (rest === null) this.overlay.delete(write.hash);
    else this.overlay.set(write.hash, rest);
  }

  range(start: Buffer, end: Buffer, limit: number): Array<[Buffer, Buffer]> {
    // Merge LMDB's committed entries with the overlay's pending ones; for a key in both,
    // the overlay's (newer) value or deletion wins.
    const pending = this.pendingInRange(start, end);
    const result: Array<[Buffer, Buffer]> = [];
    let index = 0;
    const transaction = this.engine.readOptions.transaction;
    const options = transaction === undefined ? { start, end } : { start, end, transaction };
    for (const entry of this.database.getRange(options)) {
      const key = Buffer.from(entry.key);
      if (this.overlay.size > 0 && this.pending(key, overlayHash(key)) !== null) {
        continue;
      }
      while (index < pending.length && result.length < limit) {
        const write = pending[index] as PendingWrite;
        if (Buffer.compare(write.key, key) > 0) break;
        if (write.value !== null) result.push([write.key, write.value]);
        index++;
      }
      if (result.length >= limit) return result;
      result.push([key, Buffer.from(entry.value)]);
      if (result.length >= limit) return result;
    }
    for (; index < pending.length && result.length < limit; index++) {
      const write = pending[index] as PendingWrite;
      if (write.value !== null) result.push([write.key, write.value]);
    }
    return result;
  }

  /** Overlay writes with start <= key < end, sorted by key. */
  private pendingInRange(start: Buffer, end: Buffer): PendingWrite[] {
    if (this.overlay.size === 0) return [];
    // Most ranges are one slot or a few: compare the two-byte prefix before whole keys.
    const first = prefixOf(start);
    const last = end.length === 0 ? 0xffff : prefixOf(end);
    const writes: PendingWrite[] = [];
    for (const head of this.overlay.values()) {
      for (let write: PendingWrite | null = head; write !== null; write = write.next) {
        const key = write.key;
        const prefix = prefixOf(key);
        if (prefix < first || prefix > last) continue;
        if (Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0) {
          writes.push(write);
        }
      }
    }
    writes.sort((a, b) => Buffer.compare(a.key, b.key));
    return writes;
  }
}

const OVERLAY_SEED = 0x6a09e667;

/**
 * The overlay's Map key for a stored key: murmur3 cut to 30 bits, so it is always a small
 * integer (Smi) to V8. A full 32-bit hash is a heap number three times in four, which the
 * Map boxes and hashes more slowly on every lookup, insert and delete. Exported for tests
 * that need two keys with one hash.
 */
export function overlayHash(key: Buffer): number {
  return murmur3(key, OVERLAY_SEED) & 0x3fffffff;
}

/**
 * The chain from `head` without the write of `key` (when a key is given) or without the
 * write `write` itself (compared by identity: two removes of a key are both null). Returns
 * `head` itself when nothing was removed; the chains are one entry long almost always.
 */
function unlinked(head: PendingWrite, key: Buffer | null, write: PendingWrite | null):
    PendingWrite | null {
  let previous: PendingWrite | null = null;
  for (let candidate: PendingWrite | null = head; candidate !== null;
    candidate = candidate.next) {
    const matches = key !== null ? candidate.hasKey(key) : candidate === write;
    if (!matches) {
      previous = candidate;
      continue;
    }
    if (previous === null) return candidate.next;
    previous.next = candidate.next;
    return head;
  }
  return head;
}

/** lmdb-js accepts read options (the transaction) here; its type declarations omit them. */
function readFast(database: Database<Buffer, Buffer>, key: Buffer,
    options: { transaction?: Transaction }): Buffer | undefined {
  const read = database.getBinaryFast as unknown as
    (this: Database<Buffer, Buffer>, key: Buffer, options: object) => Buffer | undefined;
  return read.call(database, key, options);
}

/** The first two bytes of a key as a number (a missing byte counts as 0). */
function prefixOf(key: Buffer): number {
  return ((key[0] ?? 0) << 8) | (key[1] ?? 0);
}
