/**
 * StorageEngine on LMDB (lmdb-js) behind a commit log (see commit-log.ts).
 *
 * The writes of one event-loop turn form a group: they are appended to the commit log with
 * one write(2) when the turn ends, and go into one LMDB transaction that lmdb-js commits on
 * its own thread. Until that transaction commits, they live in an in-memory overlay that
 * reads consult first, so a pipeline reads its own writes while the commit is in flight.
 *
 * Durability (redis.conf appendfsync), i.e. when `whenDurable` reports a write:
 *  - 'always':   after its group is in the commit log and fdatasync'ed;
 *  - 'everysec': after its group is in the commit log (a process crash cannot lose it); the
 *                log is fdatasync'ed every second, so power loss loses at most ~1 s;
 *  - 'no':       as 'everysec', without the periodic fdatasync (the OS flushes).
 * LMDB itself commits with lmdb-js's overlapping sync, which keeps the database intact on
 * power loss; a commit-log segment is deleted only after LMDB has flushed all of it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from 'pino';
import { assert } from '../util/assert.js';
import { CommitLog, GroupBuilder, LogOperation } from './commit-log.js';
import {
  TABLE_NAMES,
  type Durability,
  type DurableCallback,
  type StorageEngine,
  type StorageTable,
  type TableName,
} from './engine.js';

type Overlay = Map<string, Buffer | null>;

interface Group {
  builder: GroupBuilder;
  /** Promise of the group's last LMDB operation: it settles when the group commits. */
  lastWrite: Promise<boolean> | null;
  entries: Array<{ overlay: Overlay; key: string; value: Buffer | null }>;
  waiters: DurableCallback[];
}

interface CommitPromise extends Promise<boolean> {
  flushed?: Promise<void>;
}

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
  private group: Group | null = null;
  /** Groups written to the log whose fdatasync ('always') has not completed. */
  private syncsInFlight = 0;
  private syncWaiters: DurableCallback[] = [];
  /** Set when an LMDB commit failed; writes are refused from then on. */
  private failure: Error | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private readonly sealBound = (): void => this.seal();

  constructor(private readonly options: LmdbEngineOptions) {
    this.path = join(options.dir, 'ringkv.mdb');
    this.log = new CommitLog(options.dir, options.logger);
    this.root = open<Buffer, Buffer>({
      path: this.path,
      keyEncoding: 'binary',
      encoding: 'binary',
      maxDbs: 8,
      mapSize: 2 ** 30,
      overlappingSync: true,
      separateFlushed: true,
      noSync: false,
      eventTurnBatching: true,
      commitDelay: 20,
      compression: false,
      cache: false,
      useVersions: false,
    });
    TABLE_NAMES.forEach((name, index) => {
      const database = this.root.openDB<Buffer, Buffer>({
        name,
        keyEncoding: 'binary',
        encoding: 'binary',
        compression: false,
        cache: false,
      });
      this.tables.set(name, new LmdbTable(database, index, this));
    });
  }

  /** Replays what a crash left in the commit log, then opens a fresh log. */
  async open(): Promise<void> {
    const operations = this.log.recover();
    if (operations.length > 0) {
      const tables = TABLE_NAMES.map((name) => this.tables.get(name) as LmdbTable);
      this.root.transactionSync(() => {
        for (const operation of operations) {
          const table = tables[operation.table];
          assert(table !== undefined, 'commit log names an unknown table');
          if (operation.kind === LogOperation.Put) {
            table.database.putSync(operation.key, operation.value as Buffer);
          } else {
            table.database.removeSync(operation.key);
          }
        }
      });
      await this.root.flushed;
      this.options.logger.info({ operations: operations.length },
        'replayed the commit log into the data file');
    }
    this.log.discardRecovered();
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

  /** Records one write in the turn's group (opening the group when the turn has none). */
  record(overlay: Overlay, tableIndex: number, key: Buffer, value: Buffer | null,
      write: Promise<boolean>): void {
    let group = this.group;
    if (group === null) {
      group = { builder: new GroupBuilder(), lastWrite: null, entries: [], waiters: [] };
      this.group = group;
      setImmediate(this.sealBound);
    }
    const keyText = key.latin1Slice();
    overlay.set(keyText, value);
    group.entries.push({ overlay, key: keyText, value });
    group.builder.add(tableIndex, value === null ? LogOperation.Remove : LogOperation.Put, key,
      value);
    group.lastWrite = write;
  }

  whenDurable(callback: DurableCallback): void {
    if (this.group !== null) {
      this.group.waiters.push(callback);
    } else if (this.syncsInFlight > 0) {
      this.syncWaiters.push(callback);
    } else {
      callback(this.failure);
    }
  }

  async flush(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.whenDurable((error) => (error === null ? resolve() : reject(error)));
    });
    await this.root.flushed;
    if (this.failure !== null) throw this.failure;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
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

  /** Ends the turn's group: log it, report it per durability, let LMDB commit it. */
  private seal(): void {
    const group = this.group;
    if (group === null) return;
    this.group = null;
    let sequence: number;
    try {
      sequence = this.log.append(group.builder.finish());
    } catch (error) {
      this.fail(error as Error);
      for (const waiter of group.waiters) waiter(error as Error);
      return;
    }
    if (this.options.durability === 'always') {
      this.syncsInFlight++;
      this.log.sync((error) => {
        this.syncsInFlight--;
        this.report(group.waiters, error);
        if (this.syncsInFlight === 0 && this.syncWaiters.length > 0) {
          const waiters = this.syncWaiters;
          this.syncWaiters = [];
          this.report(waiters, error);
        }
      });
    } else {
      this.report(group.waiters, null);
    }
    const commit = group.lastWrite as CommitPromise | null;
    if (commit === null) return;
    commit.then(() => {
      clearOverlay(group);
      commit.flushed?.then(() => this.log.release(sequence), (error: Error) => this.fail(error));
    }, (error: Error) => this.fail(error));
  }

  private report(waiters: DurableCallback[], error: Error | null): void {
    if (error !== null) this.fail(error);
    for (const waiter of waiters) waiter(error ?? this.failure);
  }

  /**
   * A commit or log write failed. Acknowledged writes stay readable (their overlay entries
   * are kept) and are in the commit log, which replays them at the next start; new writes
   * are refused until then.
   */
  private fail(error: Error): void {
    if (this.failure === null) {
      this.options.logger.error({ err: error }, 'storage write failed; refusing writes');
    }
    this.failure = error;
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

/** Drops overlay entries the group wrote, unless a later write replaced them. */
function clearOverlay(group: Group): void {
  for (const entry of group.entries) {
    if (entry.overlay.get(entry.key) === entry.value) entry.overlay.delete(entry.key);
  }
}

class LmdbTable implements StorageTable {
  private readonly overlay: Overlay = new Map();

  constructor(
    readonly database: Database<Buffer, Buffer>,
    private readonly index: number,
    private readonly engine: LmdbEngine,
  ) {}

  get(key: Buffer): Buffer | undefined {
    if (this.overlay.size > 0) {
      const pending = this.overlay.get(key.latin1Slice());
      if (pending !== undefined) return pending === null ? undefined : pending;
    }
    return this.database.getBinaryFast(key);
  }

  put(key: Buffer, value: Buffer): void {
    this.engine.record(this.overlay, this.index, key, value, this.database.put(key, value));
  }

  remove(key: Buffer): void {
    this.engine.record(this.overlay, this.index, key, null, this.database.remove(key));
  }

  range(start: Buffer, end: Buffer, limit: number): Array<[Buffer, Buffer]> {
    // Merge LMDB's committed entries with the overlay's pending ones; for a key in both,
    // the overlay's (newer) value or deletion wins.
    const pending = this.pendingInRange(start, end);
    const result: Array<[Buffer, Buffer]> = [];
    let index = 0;
    for (const entry of this.database.getRange({ start, end })) {
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
    const entries: Array<[Buffer, Buffer | null]> = [];
    for (const [keyText, value] of this.overlay) {
      const key = Buffer.from(keyText, 'latin1');
      if (Buffer.compare(key, start) >= 0 && Buffer.compare(key, end) < 0) {
        entries.push([key, value]);
      }
    }
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    return entries;
  }
}
