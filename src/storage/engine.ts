/**
 * The storage engine interface: ordered byte tables with reads that see every write at once
 * and durability confirmed per batch. The engine knows nothing of keys' meaning, commands,
 * the ring or peers (STYLE.md section 2).
 */

/** How far a write must have gone before `whenDurable` reports it (redis.conf appendfsync). */
export type Durability = 'always' | 'everysec' | 'no';

/**
 * Told when writes are durable. An object with a method plus a token (instead of a closure
 * per write) keeps the write path free of allocations.
 */
export interface DurabilityListener {
  durable(token: unknown, error: Error | null): void;
}

/** A listener for the rare callers that want a plain callback (SAVE, FLUSHDB). */
export function callbackListener(callback: (error: Error | null) => void): DurabilityListener {
  return { durable: (_token, error) => callback(error) };
}

/** A table copies the keys and values it is given: callers may reuse theirs. */
export interface StorageTable {
  /**
   * The value under `key`, including writes not yet committed; undefined when absent.
   * The Buffer may be reused by the next `get`, `put` or `remove` on any table: copy it to
   * keep it. `key`
   * may be a buffer the caller reuses (stored-key.ts `lookupKey`): do not keep it.
   */
  get(key: Buffer): Buffer | undefined;
  put(key: Buffer, value: Buffer): void;
  remove(key: Buffer): void;
  /**
   * Entries with start <= key < end in key order, including uncommitted writes, up to
   * `limit` entries. Keys and values are copies the caller may keep.
   */
  range(start: Buffer, end: Buffer, limit: number): Array<[Buffer, Buffer]>;
}

export interface StorageEngine {
  table(name: TableName): StorageTable;
  /**
   * Calls back once every write queued so far is as durable as the engine's durability
   * setting demands: committed and fsynced ('always'), committed where a process crash
   * cannot lose it ('everysec'), or merely queued ('no'). Callbacks run in call order.
   */
  whenDurable(listener: DurabilityListener, token: unknown): void;
  /** The error that made the engine refuse writes (until restart), or null. */
  readonly failure: Error | null;
  /** Resolves when everything written so far is committed and flushed to disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Bytes the data files use on disk. */
  sizeBytes(): number;
}

/** The tables every engine provides. */
export type TableName = 'records' | 'expiries' | 'meta' | 'hints';
// The commit log names tables by their index here: append new tables, never reorder.
export const TABLE_NAMES: readonly TableName[] = ['records', 'expiries', 'meta', 'hints'];
