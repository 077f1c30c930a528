/**
 * StorageEngine on LMDB (lmdb-js) behind a commit log (see commit-log.ts), with LMDB
 * written by a dedicated thread (lmdb-writer.ts).
 *
 * The writes of one event-loop turn form a group. When the turn ends the group is appended
 * to the commit log with one write(2), then handed to the writer thread, which applies
 * queued groups to LMDB in one transaction each time it gets to run. Until the writer
 * reports a group committed, its writes live in an in-memory overlay that reads consult
 * first, so clients read their own writes at once.
 *
 * Durability (redis.conf appendfsync), i.e. when `whenDurable` reports a write:
 *  - 'always':   after its group is in the commit log and fdatasync'ed;
 *  - 'everysec': after its group is in the commit log (a process crash cannot lose it); the
 *                log is fdatasync'ed every second, so power loss loses at most ~1 s;
 *  - 'no':       as 'everysec', without the periodic fdatasync (the OS flushes).
 * LMDB commits with lmdb-js's overlapping sync, which keeps the data file intact on power
 * loss; a commit-log segment is deleted only once LMDB has flushed every group in it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database, RootDatabase, Transaction } from 'lmdb';
import type { Logger } from 'pino';
import { assert } from '../util/assert.js';
import { CommitLog, GroupBuilder, LogOperation } from './commit-log.js';
import {
  TABLE_NAMES,
  type Durability,
  type DurabilityListener,
  type StorageEngine,
  type StorageTable,
  type TableName,
} from './engine.js';
import { openDatabases } from './lmdb-open.js';


/** The writes of one event-loop turn; parallel arrays avoid an object per write. */
interface Group {
  sequence: number;
  tables: LmdbTable[];
  keys: string[];
  entries: PendingWrite[];
  listeners: DurabilityListener[];
  tokens: unknown[];
}

/** One write waiting in the overlay; compared by identity when its commit settles. */
interface PendingWrite {
  readonly value: Buffer | null;
}

type WriterMessage =
  | { type: 'committed'; sequence: number }
  | { type: 'flushed'; sequence: number }
  | { type: 'error'; message: string }
  | { type: 'closed' };

export interface LmdbEngineOptions {
  dir: string;
  durability: Durability;
  logger: Logger;
}

const EVERYSEC_SYNC_MS = 1000;

export class LmdbEngine implements StorageEngine {
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly tables = new Map<TableName, LmdbTable>();
  private readonly log: CommitLog;
  private readonly path: string;
  private readonly builder = new GroupBuilder();
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

  constructor(private readonly options: LmdbEngineOptions) {
    this.path = join(options.dir, 'ringkv.mdb');
    this.log = new CommitLog(options.dir, options.logger);
    const { root, tables } = openDatabases({ path: this.path });
    this.root = root;
    TABLE_NAMES.forEach((name, index) => {
      this.tables.set(name, new LmdbTable(tables[index] as Database<Buffer, Buffer>, index, this));
    });
  }

  /** Replays what a crash left in the commit log, then starts the writer thread. */
  async open(): Promise<void> {
    const operations = this.log.recover();
    if (operations.length > 0) {
      const tables = TABLE_NAMES.map((name) => (this.tables.get(name) as LmdbTable).database);
      this.root.transactionSync(() => {
        for (const operation of operations) {
          const table = tables[operation.table];
          assert(table !== undefined, 'commit log names an unknown table');
          if (operation.kind === LogOperation.Put) {
            table.putSync(operation.key, operation.value as Buffer);
          } else {
            table.removeSync(operation.key);
          }
        }
      });
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
  record(table: LmdbTable, tableIndex: number, key: Buffer, value: Buffer | null): void {
    let group = this.group;
    if (group === null) {
      group = { sequence: 0, tables: [], keys: [], entries: [], listeners: [], tokens: [] };
      this.group = group;
      setImmediate(this.sealBound);
    }
    const keyText = key.latin1Slice();
    const entry: PendingWrite = { value };
    table.setPending(keyText, key, entry);
    group.tables.push(table);
    group.keys.push(keyText);
    group.entries.push(entry);
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

  /** Writes waiting for the writer thread (backlog of the overlay). */
  get pendingWrites(): number {
    let count = 0;
    for (const group of this.uncommitted) count += group.keys.length;
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
    const transferable = new ArrayBuffer(bytes.length);
    bytes.copy(new Uint8Array(transferable));
    this.uncommitted.push(group);
    this.writer?.postMessage({ type: 'apply', sequence: group.sequence, bytes: transferable },
      [transferable]);
    this.reportDurable(group);
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
  const { tables, keys, entries } = group;
  for (let index = 0; index < keys.length; index++) {
    (tables[index] as LmdbTable).settle(keys[index] as string, entries[index] as PendingWrite);
  }
}

/**
 * A table: LMDB plus the overlay of writes the writer thread has not committed yet. The
 * overlay is also indexed by the stored key's first two bytes (the slot, for records), so a
 * range scan looks only at the pending writes that can fall in its range.
 */
class LmdbTable implements StorageTable {
  private readonly overlay = new Map<string, PendingWrite>();
  private readonly pendingByPrefix = new Map<number, Map<string, Buffer>>();

  constructor(
    readonly database: Database<Buffer, Buffer>,
    private readonly index: number,
    private readonly engine: LmdbEngine,
  ) {}

  get(key: Buffer): Buffer | undefined {
    if (this.overlay.size > 0) {
      const pending = this.overlay.get(key.latin1Slice());
      if (pending !== undefined) return pending.value ?? undefined;
    }
    const bytes = readFast(this.database, key, this.engine.readOptions);
    // lmdb-js returns its reused read buffer with an own `length` property set to the value's
    // size; a real view of exactly the value keeps subarray/copy semantics honest.
    return bytes === undefined ? undefined : bytes.subarray(0, bytes.length);
  }

  put(key: Buffer, value: Buffer): void {
    this.engine.record(this, this.index, key, value);
  }

  remove(key: Buffer): void {
    this.engine.record(this, this.index, key, null);
  }

  setPending(keyText: string, key: Buffer, entry: PendingWrite): void {
    this.overlay.set(keyText, entry);
    const prefix = prefixOf(key);
    let bucket = this.pendingByPrefix.get(prefix);
    if (bucket === undefined) {
      bucket = new Map();
      this.pendingByPrefix.set(prefix, bucket);
    }
    if (!bucket.has(keyText)) bucket.set(keyText, Buffer.from(key));
  }

  /** The writer committed this write: drop its overlay entry unless a later write owns it. */
  settle(keyText: string, entry: PendingWrite): void {
    // Identity of the write, not equality of values: two removes of a key are both null.
    if (this.overlay.get(keyText) !== entry) return;
    this.overlay.delete(keyText);
    const prefix = (keyText.charCodeAt(0) << 8) | (keyText.charCodeAt(1) || 0);
    const bucket = this.pendingByPrefix.get(prefix);
    bucket?.delete(keyText);
    if (bucket !== undefined && bucket.size === 0) this.pendingByPrefix.delete(prefix);
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
      if (this.overlay.size > 0 && this.overlay.has(key.latin1Slice())) continue;
      while (index < pending.length && result.length < limit) {
        const [pendingKey, pendingValue] = pending[index] as [Buffer, Buffer | null];
        if (Buffer.compare(pendingKey, key) > 0) break;
        if (pendingValue !== null) result.push([pendingKey, pendingValue]);
        index++;
      }
      if (result.length >= limit) return result;
      result.push([key, Buffer.from(entry.value)]);
      if (result.length >= limit) return result;
    }
    for (; index < pending.length && result.length < limit; index++) {
      const [pendingKey, pendingValue] = pending[index] as [Buffer, Buffer | null];
      if (pendingValue !== null) result.push([pendingKey, pendingValue]);
    }
    return result;
  }

  /** Overlay entries with start <= key < end, sorted by key. */
  private pendingInRange(start: Buffer, end: Buffer): Array<[Buffer, Buffer | null]> {
    if (this.overlay.size === 0) return [];
    const first = prefixOf(start);
    const last = end.length === 0 ? 0xffff : prefixOf(end);
    const entries: Array<[Buffer, Buffer | null]> = [];
    for (const [prefix, bucket] of this.pendingByPrefix) {
      if (prefix < first || prefix > last) continue;
      for (const [keyText, key] of bucket) {
        if (Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0) {
          entries.push([key, this.overlay.get(keyText)?.value ?? null]);
        }
      }
    }
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    return entries;
  }
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
