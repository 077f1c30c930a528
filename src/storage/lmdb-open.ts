/**
 * Opens the LMDB environment and its tables with the same explicit options on the main
 * thread (reads) and on the writer thread (writes). lmdb-js shares one environment per
 * path within the process.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { LogOperation, type LoggedOperation } from './commit-log.js';
import { TABLE_NAMES } from './engine.js';

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
 * Applies commit-log operations in order in one transaction: the writer thread's batches,
 * and the replay at start of what a crash left in the log.
 */
export function applyOperations({ root, tables }: OpenedDatabases,
    operations: readonly LoggedOperation[]): void {
  root.transactionSync(() => {
    for (const operation of operations) {
      const table = tables[operation.table];
      if (table === undefined) throw new Error(`commit log names unknown table ${operation.table}`);
      if (operation.kind === LogOperation.Put) {
        table.putSync(operation.key, operation.value as Buffer);
      } else {
        table.removeSync(operation.key);
      }
    }
  });
}
