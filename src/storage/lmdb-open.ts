/**
 * Opens the LMDB environment and its tables with the same explicit options on the main
 * thread (reads) and on the writer thread (writes). lmdb-js shares one environment per
 * path within the process.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { LogOperation, visitGroupLayouts, type LoggedOperation } from './commit-log.js';
import { TABLE_NAMES } from './engine.js';
import { completeChecksum } from './record.js';
import { WriteOrder } from './write-order.js';

/**
 * LMDB's page size for a new data directory (an existing one keeps the size it was made
 * with). A batch of random puts copies most leaf pages into its transaction and keeps them
 * in a sorted dirty-page list; at 16 KiB there are a quarter as many pages and a level less
 * to descend: the writer thread's CPU per put under redis-benchmark SET -P 16 fell 17 %
 * against 4 KiB (bench/RESULTS.md). Reads come from the record cache first either way.
 */
const PAGE_BYTES = 16 * 1024;

export interface WriterData {
  path: string;
}

export interface OpenedDatabases {
  root: RootDatabase<Buffer, Buffer>;
  /** Tables in TABLE_NAMES order (the commit log names tables by this index). */
  tables: Array<Database<Buffer, Buffer>>;
}

export function openDatabases(data: WriterData): OpenedDatabases {
  const root = open<Buffer, Buffer>({
    path: data.path,
    keyEncoding: 'binary',
    encoding: 'binary',
    maxDbs: 8,
    mapSize: 2 ** 30,
    // Plain LMDB commits (data, fsync, meta, fsync): once a commit returns, every reader
    // thread's next snapshot has it. With lmdb-js's overlapping sync a reader on another
    // thread was seen getting an older snapshot after a commit had returned (deleted keys
    // reappeared); the fsync wait is harmless here since only the writer thread waits.
    overlappingSync: false,
    noSync: false,
    compression: false,
    cache: false,
    useVersions: false,
    pageSize: PAGE_BYTES,
  });
  const tables = TABLE_NAMES.map((name) => root.openDB<Buffer, Buffer>({
    name,
    keyEncoding: 'binary',
    encoding: 'binary',
    compression: false,
    cache: false,
  }));
  return { root, tables };
}

/**
 * Applies commit-log operations in order in one transaction: the replay at start of what a
 * crash left in the log.
 */
export function applyOperations({ root, tables }: OpenedDatabases,
    operations: readonly LoggedOperation[]): void {
  root.transactionSync(() => {
    for (const operation of operations) {
      applyOperation(tables, operation.table, operation.kind, operation.key, operation.value);
    }
  });
}

/** The writer thread's batch order, reused from batch to batch. */
const writeOrder = new WriteOrder();

/**
 * Applies whole commit-log groups in one transaction: the writer thread's batches, read in
 * place (commit-log.ts `visitGroupLayouts`) and applied grouped by slot, without writes
 * that a later write of their key replaces (write-order.ts). The bytes come from this
 * process's own log builder, so their CRC is not checked again, and a group that does not
 * decode is a bug: it aborts the transaction and the error reaches the main thread, which
 * then refuses writes.
 */
export function applyGroups({ root, tables }: OpenedDatabases, batches: readonly Buffer[]):
    void {
  writeOrder.begin(batches);
  try {
    batches.forEach((bytes, source) => {
      const consumed = visitGroupLayouts(bytes, false, (table, kind, keyStart, valueStart, end) =>
        writeOrder.add(source, table, kind, keyStart, valueStart, end));
      if (consumed !== bytes.length) {
        throw new Error(
          `commit-log batch does not decode after ${consumed} of ${bytes.length} bytes`);
      }
    });
    root.transactionSync(() => {
      writeOrder.forEach((source, table, kind, keyStart, valueStart, end) => {
        const bytes = batches[source] as Buffer;
        applyOperation(tables, table, kind, bytes.subarray(keyStart, valueStart),
          kind === LogOperation.Put ? bytes.subarray(valueStart, end) : null);
      });
    });
  } finally {
    writeOrder.clear();
  }
}

/** The records table's index: its values are records (record.ts). */
const RECORDS_TABLE = TABLE_NAMES.indexOf('records');

/**
 * One put or remove. A record whose checksum was left pending (a standalone node's write,
 * record.ts) gets it here, in the bytes this thread owns, so LMDB only ever holds complete
 * records.
 */
function applyOperation(tables: ReadonlyArray<Database<Buffer, Buffer>>, tableIndex: number,
    kind: LogOperation, key: Buffer, value: Buffer | null): void {
  const table = tables[tableIndex];
  if (table === undefined) throw new Error(`commit log names unknown table ${tableIndex}`);
  if (kind === LogOperation.Put) {
    if (tableIndex === RECORDS_TABLE) completeChecksum(value as Buffer);
    table.putSync(key, value as Buffer);
  } else {
    table.removeSync(key);
  }
}
