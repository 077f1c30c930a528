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
import { EvictedWrites } from './evicted-writes.js';
import { PendingWrites } from './pending-writes.js';
import { CachePut, RecordCache } from './record-cache.js';
import { FILTER_BITS_MIN, KeyFilter } from './key-filter.js';
import { RECORD_CACHE_BYTES, RECORD_CACHE_ENTRY_BYTES_MAX } from '../config/limits.js';
import { atTurnEnd } from '../runtime/turn-end.js';


/** The writes of one event-loop turn. */
interface Group {
  sequence: number;
  /** Per table (TABLE_NAMES order): its pending writes added up to the end of this group. */
  marks: number[];
  listeners: DurabilityListener[];
  tokens: unknown[];
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
  /** Bits of the smallest key filter (default FILTER_BITS_MIN; tests make it small). */
  keyFilterBitsMin?: number;
}

const EVERYSEC_SYNC_MS = 1000;
/**
 * How long logged groups gather before they go to the writer thread in one message, unless
 * STAGING_BYTES_MAX comes first; the record cache, the overlay and the commit log hold the
 * batch meanwhile. A transaction copies and writes most leaf pages of a large table whether
 * it holds 5k puts or 40k, so the per-put cost falls with the batch: 500 ms batches made
 * SET -P 1 about a third faster than 100 ms ones on 2 cores, and a cluster node, taking a
 * third of the writes each, paid three times as much per put as a single node at 500 ms.
 * Batches of up to 2 s (or 8 MiB) lowered single node SET -P 1 p99 in 8 of 10 pairs and
 * the cluster writers' CPU per SET in 4 of 4 (bench/RESULTS.md, eighth session); SET -P 16
 * fills 8 MiB in ~150 ms either way.
 */
const HANDOFF_MS = 2000;
const STAGING_BYTES_MIN = 64 * 1024;
/** Staged bytes that are handed over at once (bounds the copy and the transaction). */
const STAGING_BYTES_MAX = 8 * 1024 * 1024;
/** Staging buffers kept for reuse (one in the writer's hands, one ready). */
const STAGING_SPARES_MAX = 2;

/**
 * The size of a staging buffer for `bytes`: a power of two from STAGING_BYTES_MIN, at most
 * STAGING_BYTES_MAX unless one group is larger. Sized to the last batch's exact length
 * instead, the spares the writer gave back were nearly always a little too small for the
 * next batch: every handoff took a fresh buffer, whose first touch page-faults (~2k faults
 * of 11 us on this VM per 8 MiB), and freed one.
 */
function stagingBytes(bytes: number): number {
  let size = STAGING_BYTES_MIN;
  while (size < bytes && size < STAGING_BYTES_MAX) size *= 2;
  return Math.max(size, bytes);
}

/**
 * Keys read per step of a key filter's scan of a table (the event loop runs between). A
 * build scans every key (at start, then again each time the keys outgrow the filter: past
 * 1M keys at first, key-filter.ts), and a step of 4096 keys held the event loop
 * 1.3 ms (median, 300k keys, idle machine; about twice that in a loaded cluster's
 * profile), long enough to show in the p99 of requests waiting behind it. A step of 1024
 * keys holds it 0.26 ms.
 */
const FILTER_SCAN_PAGE_KEYS = 1024;

export class LmdbEngine implements StorageEngine {
  private readonly root: RootDatabase<Buffer, Buffer>;
  /** In TABLE_NAMES order (the commit log's table numbers). */
  private readonly tables: LmdbTable[] = [];
  private readonly log: CommitLog;
  private readonly path: string;
  private readonly builder = new GroupBuilder();
  private writer: Worker | null = null;
  private group: Group | null = null;
  /** Groups handed to the writer and not yet committed, oldest first. */
  private uncommitted: Group[] = [];
  /**
   * The sequence of the newest group staged (what the next handoff commits; after a flush's
   * handoff, the newest group logged).
   */
  private stagedSequence = 0;
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
  /** Set by close: key filter scans stop. */
  closing = false;

  get logger(): Logger {
    return this.options.logger;
  }

  constructor(private readonly options: LmdbEngineOptions) {
    this.path = join(options.dir, 'ringkv.mdb');
    this.log = new CommitLog(options.dir, options.logger);
    const { root, tables } = openDatabases({ path: this.path });
    this.root = root;
    TABLE_NAMES.forEach((name, index) => {
      // Only records are read by key on the hot path; the expiry index is read by range.
      const cacheBytes = name === 'records'
        ? options.recordCacheBytes ?? RECORD_CACHE_BYTES : null;
      const table = new LmdbTable(tables[index] as Database<Buffer, Buffer>, index, this,
        cacheBytes, name === 'records');
      this.tables.push(table);
    });
  }

  /** Replays what a crash left in the commit log, then starts the writer thread. */
  async open(): Promise<void> {
    const operations = this.log.recover();
    if (operations.length > 0) {
      const tables = this.tables.map((table) => table.database);
      applyOperations({ root: this.root, tables }, operations);
      await this.root.flushed;
      this.options.logger.info({ operations: operations.length },
        'replayed the commit log into the data file');
    }
    this.log.discardRecovered();
    this.renewSnapshot();
    this.startWriter();
    this.startPeriodicSync();
    for (const table of this.tables) table.buildKeyFilter();
  }

  /** Resolves once every table's key filter has finished its scan (tests, benchmarks). */
  async keyFiltersBuilt(): Promise<void> {
    for (const table of this.tables) await table.keyFilterBuilt;
  }

  setDurability(durability: Durability): void {
    this.options.durability = durability;
    this.startPeriodicSync();
  }

  table(name: TableName): StorageTable {
    const table = this.tables[TABLE_NAMES.indexOf(name)];
    assert(table !== undefined, `unknown table ${name}`);
    return table;
  }

  /** Writes of the engine's tables end up here (after their pending writes): the turn's group. */
  record(tableIndex: number, key: Buffer, value: Buffer | null): void {
    if (this.group === null) {
      this.group = { sequence: 0, marks: [], listeners: [], tokens: [] };
      atTurnEnd(this.sealBound);
    }
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
    const sequence = this.stagedSequence;
    if (this.flushedSequence < sequence) {
      await new Promise<void>((resolve) => this.flushWaiters.push({ sequence, resolve }));
    }
    if (this.failure !== null) throw this.failure;
  }

  async close(): Promise<void> {
    this.closing = true;
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
    return (this.table('records') as LmdbTable).cache as RecordCache;
  }

  /** Reads of the records table its key filter answered without LMDB. */
  get keyFilterSkips(): number {
    return (this.table('records') as LmdbTable).keyFilterSkips;
  }

  /** Bytes of the records table's key filter in use (0 until its first scan ends). */
  get keyFilterBytes(): number {
    return (this.table('records') as LmdbTable).keyFilterBytes;
  }

  /** Bits of the smallest key filter a table builds (LmdbEngineOptions.keyFilterBitsMin). */
  get keyFilterBitsMin(): number {
    return this.options.keyFilterBitsMin ?? FILTER_BITS_MIN;
  }

  /** Values the record cache dropped while pending, kept for reads until committed. */
  get evictedWrites(): number {
    let count = 0;
    for (const table of this.tables) count += table.evictedWrites;
    return count;
  }

  /** Writes waiting for the writer thread (the overlay's backlog). */
  get pendingWrites(): number {
    let count = 0;
    for (const table of this.tables) count += table.pending.size;
    return count;
  }

  /** Ends the turn's group: log it, report it per durability, hand it to the writer. */
  private seal(): void {
    const group = this.group;
    if (group === null) return;
    this.group = null;
    for (const table of this.tables) group.marks.push(table.pending.added);
    let bytes: Buffer;
    try {
      bytes = this.builder.finish();
      group.sequence = this.log.append(bytes);
    } catch (error) {
      this.fail(error as Error);
      reportGroup(group, error as Error);
      return;
    }
    // The writer gets its own copy, taken before anything else runs: reporting durability
    // releases replies, which can resume a paused client whose buffered commands write
    // again, into the builder's (reused) buffer.
    this.stage(bytes, group.sequence);
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
  private stage(bytes: Buffer, sequence: number): void {
    // A batch stays within STAGING_BYTES_MAX (a larger group goes alone), so that staging
    // buffers keep one size under steady load and are reused (see stagingBytes). What
    // goes now ends at the previous group: the writer's commit of a sequence releases the
    // overlay's writes up to it.
    if (this.staged > 0 && this.staged + bytes.length > STAGING_BYTES_MAX) this.handOff();
    if (this.staged + bytes.length > this.staging.length) {
      const grown = Buffer.allocUnsafeSlow(stagingBytes(this.staged + bytes.length));
      this.staging.copy(grown, 0, 0, this.staged);
      this.staging = grown;
    }
    this.staging.set(bytes, this.staged);
    this.staged += bytes.length;
    this.stagedSequence = sequence;
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
    // The next buffer starts at this batch's size class: allocation follows the write rate.
    this.staging = this.stagingBuffer(stagingBytes(length));
    this.staged = 0;
    const bytes = staging.buffer as ArrayBuffer;
    this.writer?.postMessage({ type: 'apply', sequence: this.stagedSequence, bytes, length },
      [bytes]);
  }

  /** A spare staging buffer of at least `bytes` (a stagingBytes size), or a new one. */
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
      reportGroup(group, this.failure);
      return;
    }
    this.syncsInFlight++;
    this.log.sync((error) => {
      this.syncsInFlight--;
      if (error !== null) this.fail(error);
      reportGroup(group, this.failure);
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
          index++;
        }
        if (index > 0) {
          // Groups commit in order: the newest committed group's marks release them all.
          const marks = (this.uncommitted[index - 1] as Group).marks;
          this.tables.forEach((table, tableIndex) => {
            table.release(marks[tableIndex] as number);
          });
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

/**
 * Reports a sealed group's waiters, and lets go of them: the group itself stays in
 * `uncommitted` until the writer commits it, up to seconds later, and needs only its
 * sequence and marks until then.
 */
function reportGroup(group: Group, error: Error | null): void {
  const { listeners, tokens } = group;
  group.listeners = NO_LISTENERS;
  group.tokens = NO_TOKENS;
  report(listeners, tokens, error);
}

/** A reported group's waiters; never pushed to (only the unsealed group takes waiters). */
const NO_LISTENERS: DurabilityListener[] = Object.freeze([]) as unknown as DurabilityListener[];
const NO_TOKENS: unknown[] = Object.freeze([]) as unknown as unknown[];

function report(listeners: DurabilityListener[], tokens: unknown[], error: Error | null): void {
  for (let index = 0; index < listeners.length; index++) {
    (listeners[index] as DurabilityListener).durable(tokens[index], error);
  }
}

/**
 * A table: LMDB plus its writes the writer thread has not committed yet (PendingWrites, the
 * overlay: one handoff interval of writes, more while the writer lags). A table read by key
 * has a RecordCache, kept equal to the table by every put and remove, so a hit is the
 * current value; a table read by range has none.
 *
 * Point reads try the cache, then what says whether a key has a newer value than LMDB's,
 * then LMDB. Without a cache that is the overlay, with an index of its keys. With one it is
 * the cache itself: every write goes into the cache, which may drop values only to make
 * room, and a value it drops while its key may have an uncommitted write (or refuses as too
 * large) is kept in EvictedWrites until that write is committed. So the overlay needs no
 * index there, nor the values: a write costs a copy of its key into it instead of an index
 * insert (a cache miss on a random key) and a removal later (SET -P 16, main thread
 * 4.6-5.0 -> 4.1-4.3 us a request in 4 alternating pairs), and no copy of its value
 * (3.85 -> 3.48 us; bench/RESULTS.md).
 *
 * A table read by key also has a KeyFilter (key-filter.ts) of every key it may hold: once
 * its scan of LMDB is done, a key the filter never saw is absent without an LMDB read.
 * Range reads merge the overlay's writes in the range with LMDB's (with a cache, the
 * overlay names the keys and the cache or EvictedWrites gives their values): they are
 * rare next to point reads and writes.
 */
class LmdbTable implements StorageTable {
  readonly pending: PendingWrites;
  /**
   * Recently read and written values, and keys known absent (record-cache.ts); null for
   * tables read by range.
   */
  readonly cache: RecordCache | null;
  /** Values the cache dropped while their key may have had a pending write. */
  private readonly evicted: EvictedWrites | null;
  /**
   * Every key this table may hold, once built: each key put since the table was made, each
   * key pending when the scan started and each key the scan found in LMDB. Null until then.
   */
  private keyFilter: KeyFilter | null = null;
  /** The filter being built (its scan runs), which puts add to as well; or null. */
  private nextKeyFilter: KeyFilter | null = null;
  /** Reads the key filter answered without LMDB (INFO storage_key_filter_skips). */
  keyFilterSkips = 0;
  /** Settles when the current scan ends. */
  keyFilterBuilt: Promise<void> = Promise.resolve();

  /**
   * @param cacheBytes the record cache's ring, or null for a table read by range
   * @param filtered whether the table keeps a key filter
   */
  constructor(
    readonly database: Database<Buffer, Buffer>,
    private readonly index: number,
    private readonly engine: LmdbEngine,
    cacheBytes: number | null,
    private readonly filtered: boolean,
  ) {
    if (cacheBytes === null) {
      this.cache = null;
      this.evicted = null;
      this.pending = new PendingWrites();
    } else {
      const evicted = new EvictedWrites();
      const pending = new PendingWrites(undefined, false);
      this.cache = new RecordCache(cacheBytes, RECORD_CACHE_ENTRY_BYTES_MAX,
        (key, hash, value) => {
          if (pending.mayHold(hash)) evicted.add(key, hash, value, pending.added);
        });
      this.evicted = evicted;
      this.pending = pending;
    }
    // Puts made before the scan starts must reach the filter it builds.
    if (filtered) {
      this.nextKeyFilter = new KeyFilter(2 * entryCount(database), engine.keyFilterBitsMin);
    }
  }

  /** Values kept for reads because the cache dropped them while they were pending. */
  get evictedWrites(): number {
    return this.evicted?.size ?? 0;
  }

  /** The writer committed the first `count` writes ever made to this table. */
  release(count: number): void {
    this.pending.release(count);
    this.evicted?.release(count);
  }

  /**
   * Builds a key filter (again, larger, when the current one is crowded): it takes every
   * key pending now and every key put from now on, and a scan of LMDB's keys in pages,
   * each from the current snapshot. A key in LMDB after the scan was put since (and taken),
   * or was there all along and so in the page that covered its place. Until the scan ends
   * the previous filter (none at first) answers.
   */
  buildKeyFilter(): void {
    if (!this.filtered) return;
    const building = this.nextKeyFilter ?? new KeyFilter(
      2 * Math.max(entryCount(this.database), this.keyFilter?.added ?? 0),
      this.engine.keyFilterBitsMin);
    this.nextKeyFilter = building;
    this.pending.forEachHash((hash) => building.add(hash));
    // A failed scan leaves the filter in use (none at first: reads go to LMDB).
    this.keyFilterBuilt = this.scanKeys(building).catch((error: unknown) => {
      if (this.nextKeyFilter === building) this.nextKeyFilter = null;
      this.engine.logger.warn({ err: error }, 'key filter scan failed');
    });
  }

  private async scanKeys(building: KeyFilter): Promise<void> {
    let start: Buffer = Buffer.alloc(0);
    for (;;) {
      if (this.engine.closing) return;
      const transaction = this.engine.readOptions.transaction;
      const options = transaction === undefined
        ? { start, limit: FILTER_SCAN_PAGE_KEYS }
        : { start, limit: FILTER_SCAN_PAGE_KEYS, transaction };
      let last: Buffer | null = null;
      let count = 0;
      for (const key of this.database.getKeys(options)) {
        building.add(overlayHash(key));
        last = key;
        count++;
      }
      if (count < FILTER_SCAN_PAGE_KEYS || last === null) break;
      start = Buffer.concat([last, ZERO_BYTE]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.keyFilter = building;
    this.nextKeyFilter = null;
  }

  get(key: Buffer): Buffer | undefined {
    const hash = overlayHash(key);
    const cache = this.cache;
    if (cache !== null) {
      const cached = cache.get(key, hash);
      if (cached !== undefined) return cached ?? undefined;
      const evicted = this.evicted as EvictedWrites;
      if (evicted.size > 0) {
        const kept = evicted.get(key, hash);
        if (kept !== undefined) return kept ?? undefined;
      }
    } else if (this.pending.size > 0) {
      const pending = this.pending.get(key, hash);
      if (pending !== undefined) return pending ?? undefined;
    }
    // Not cached as absent: the filter's answer costs less than the cache's append.
    if (this.keyFilter !== null && !this.keyFilter.mayContain(hash)) {
      this.keyFilterSkips++;
      return undefined;
    }
    const bytes = readFast(this.database, key, this.engine.readOptions);
    if (bytes === undefined) {
      cache?.put(key, hash, null);
      return undefined;
    }
    // lmdb-js returns its reused read buffer with an own `length` property set to the value's
    // size; a real view of exactly the value keeps subarray/copy semantics honest.
    const value = bytes.subarray(0, bytes.length);
    cache?.put(key, hash, value);
    return value;
  }

  put(key: Buffer, value: Buffer): void {
    const hash = overlayHash(key);
    this.pending.add(key, hash, value);
    this.engine.record(this.index, key, value);
    const held = this.cacheWrite(key, hash, value);
    if (this.filtered) this.filterKey(hash, held);
  }

  /**
   * The cache takes a write after the overlay has it, so that a value the cache drops to
   * make room is known to be pending; a value it refuses is kept in EvictedWrites instead.
   * True when the cache held a value of the key's: the table had the key already.
   */
  private cacheWrite(key: Buffer, hash: number, value: Buffer | null): boolean {
    const cache = this.cache;
    if (cache === null) return false;
    const result = cache.put(key, hash, value);
    if (result === CachePut.Refused) {
      (this.evicted as EvictedWrites).add(key, hash, value, this.pending.added);
    }
    return result === CachePut.CachedOverValue;
  }

  get keyFilterBytes(): number {
    return (this.keyFilter?.bits ?? 0) / 8;
  }

  /**
   * Adds a put key's hash to the key filter (and to the one being built). `held`: the
   * record cache held a value of the key's, so the key is in LMDB or pending, and the filter
   * in use has it already (it took every key pending when its scan began, every key put
   * since, and the scan found the others): an overwrite then skips the filter's cache miss
   * (~2 % of SET -P 16's main thread).
   */
  private filterKey(hash: number, held: boolean): void {
    const filter = this.keyFilter;
    const next = this.nextKeyFilter;
    if (next !== null) next.add(hash);
    if (filter === null || held) return;
    filter.add(hash);
    if (next === null && filter.crowded) this.buildKeyFilter();
  }

  remove(key: Buffer): void {
    const hash = overlayHash(key);
    this.pending.add(key, hash, null);
    this.engine.record(this.index, key, null);
    this.cacheWrite(key, hash, null);
  }

  /**
   * The value of a key with a pending write, in a table with a record cache: the cache holds
   * it, or, dropped or refused while pending, EvictedWrites does (see `get`).
   */
  private heldValue(key: Buffer, hash: number): Buffer | null {
    const cached = (this.cache as RecordCache).peek(key, hash);
    const value = cached !== undefined ? cached : (this.evicted as EvictedWrites).get(key, hash);
    assert(value !== undefined, 'a pending write neither cached nor kept');
    return value;
  }

  /**
   * Up to `limit` live entries with start <= key < end, in key order, as copies: LMDB's
   * committed entries merged with the overlay's pending ones (for a key in both, the
   * overlay's newer value or deletion wins). LMDB is read `limit` entries at a time, and
   * only the pending writes up to the last key read are gathered for them. Gathering every
   * pending write of the range for each page cost a scan of a hot slot (hash tags put
   * tens of thousands of pending writes in one slot) tens of milliseconds a page, and an
   * anti-entropy pass over 100k keys blocked the event loop for seconds.
   */
  range(start: Buffer, end: Buffer, limit: number): Array<[Buffer, Buffer]> {
    const result: Array<[Buffer, Buffer]> = [];
    const transaction = this.engine.readOptions.transaction;
    let from = start;
    for (;;) {
      const options = transaction === undefined ? { start: from, end, limit }
        : { start: from, end, limit, transaction };
      const committed: Array<[Buffer, Buffer]> = [];
      for (const entry of this.database.getRange(options)) {
        committed.push([Buffer.from(entry.key), Buffer.from(entry.value)]);
      }
      // Read in full, LMDB may hold more: this round covers keys up to its last one.
      const more = committed.length === limit;
      const bound = more
        ? Buffer.concat([(committed[limit - 1] as [Buffer, Buffer])[0], ZERO_BYTE]) : end;
      const pending = this.pending.size === 0 ? []
        : this.pending.inRange(from, bound, this.cache === null ? null
          : (key, hash) => this.heldValue(key, hash));
      mergeEntries(committed, pending, result, limit);
      if (!more || result.length >= limit) return result;
      from = bound;
    }
  }
}

/**
 * Appends to `into`, up to `limit` entries in all, the merge of two key-ordered lists; for
 * a key in both, the pending write wins, and a pending removal (null) hides the key.
 */
function mergeEntries(committed: ReadonlyArray<[Buffer, Buffer]>,
    pending: ReadonlyArray<[Buffer, Buffer | null]>, into: Array<[Buffer, Buffer]>,
    limit: number): void {
  let next = 0;
  for (const entry of committed) {
    let replaced = false;
    for (; next < pending.length; next++) {
      const [key, value] = pending[next] as [Buffer, Buffer | null];
      const order = Buffer.compare(key, entry[0]);
      if (order > 0) break;
      if (order === 0) replaced = true;
      if (value !== null) {
        if (into.length >= limit) return;
        into.push([key, value]);
      }
    }
    if (replaced) continue;
    if (into.length >= limit) return;
    into.push(entry);
  }
  for (; next < pending.length && into.length < limit; next++) {
    const [key, value] = pending[next] as [Buffer, Buffer | null];
    if (value !== null) into.push([key, value]);
  }
}

const OVERLAY_SEED = 0x6a09e667;

/**
 * A stored key's hash in the overlay and the record cache (key-ring.ts): murmur3 cut to 30
 * bits, so it is a small integer (Smi) to V8 and never the ring's end-of-lap marker.
 * Exported for tests that need two keys with one hash.
 */
export function overlayHash(key: Buffer): number {
  return murmur3(key, OVERLAY_SEED) & 0x3fffffff;
}

const ZERO_BYTE = Buffer.from([0]);

/** Entries in an LMDB table (lmdb-js types `getStats` as an empty object). */
function entryCount(database: Database<Buffer, Buffer>): number {
  return (database.getStats() as { entryCount?: number }).entryCount ?? 0;
}

/** lmdb-js accepts read options (the transaction) here; its type declarations omit them. */
function readFast(database: Database<Buffer, Buffer>, key: Buffer,
    options: { transaction?: Transaction }): Buffer | undefined {
  const read = database.getBinaryFast as unknown as
    (this: Database<Buffer, Buffer>, key: Buffer, options: object) => Buffer | undefined;
  return read.call(database, key, options);
}
