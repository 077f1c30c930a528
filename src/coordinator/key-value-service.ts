/**
 * The key-value service between commands and data (DESIGN.md section 1). A command never
 * touches storage or sockets: it describes what it wants done to its keys as a KeyOperation,
 * and the coordinator reads the keys (locally, or from a read quorum), applies the
 * operation, stores the changes (locally, or to a write quorum) and lets the operation
 * write its reply once the changes are as durable as the client's settings demand.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { DurabilityListener } from '../storage/engine.js';
import type { Consistency } from './consistency.js';
import type { StoredRecord } from '../storage/record.js';

/** A live (not deleted, not expired) value as an operation sees it. */
export type LiveValue = StoredRecord;

/** What an operation does to one key. */
export type Change = SetChange | typeof DELETE | null;

export interface SetChange {
  value: Buffer;
  /** Absolute Unix milliseconds; 0 for no expiry. */
  expireAtMs: number;
}

export const DELETE = 'delete' as const;

/**
 * One command's work on its keys. `apply` runs once with the current live value of every
 * key (all undefined when `readsValues` is false: a blind write such as plain SET) and
 * returns one change per key. `reply` runs after the changes are stored.
 *
 * On a single node `apply` sees every key at once and the whole operation is atomic. In a
 * cluster each key may live on other replicas; keys are read and written per key (not
 * atomic across keys, DESIGN.md section 9).
 */
export interface KeyOperation {
  readonly keys: readonly Buffer[];
  /** Database of each key; null when all keys are in the client's selected database. */
  readonly keyDatabases: readonly number[] | null;
  readonly readsValues: boolean;
  apply(values: ReadonlyArray<LiveValue | undefined>, nowMs: number): readonly Change[];
  reply(out: ReplyWriter): void;
}

/**
 * Where the service writes a reply, and how it holds one back until the write it reports
 * is durable (see server/reply-queue.ts). A target is a DurabilityListener itself: `durable`
 * releases the hold, or, when the write failed after its reply was written, closes the
 * connection instead so the client never sees an acknowledgement we cannot honour.
 */
export interface ReplyTarget extends DurabilityListener {
  readonly writer: ReplyWriter;
  /** The client's read and write consistency levels (CONSISTENCY). */
  readonly consistency: Consistency;
  /** Keeps the replies written so far from leaving until `durable(token, ...)`. */
  hold(): unknown;
  /**
   * Reserves the reply's place in the reply order for a reply written later (a quorum
   * still being collected); write it into `deferredWriter(token)` and call `fill(token)`.
   */
  defer(): unknown;
  deferredWriter(token: unknown): ReplyWriter;
  fill(token: unknown): void;
}

export interface ScanResult {
  keys: Buffer[];
  /** The cursor to continue with; 0 when the iteration is complete. */
  cursor: number;
}

export interface KeyValueService {
  /** Runs an operation and writes its reply (or an error) to the target. */
  execute(target: ReplyTarget, db: number, operation: KeyOperation): void;
  /**
   * GET's reply written straight from the stored record when this node alone holds the key
   * (a single node): the same reads, statistics and lazy expiry as `execute` with a GET,
   * without its operation object and arrays. False (nothing written) when the key
   * needs coordinating: run the GET through `execute`.
   */
  replyWithValue(target: ReplyTarget, db: number, key: Buffer): boolean;
  /**
   * Plain SET (no options) when this node alone holds the key, likewise: the same record,
   * reply and durability as `execute` with that SET. False when the key needs coordinating.
   */
  storeValue(target: ReplyTarget, db: number, key: Buffer, value: Buffer): boolean;
  /** Keys and key counts of a database. */
  databaseSize(db: number): number;
  scan(db: number, cursor: number, count: number,
      filter: (key: Buffer, value: LiveValue) => boolean): ScanResult;
  randomKey(db: number): Buffer | null;
  /** Removes every key of a database (or all databases with db = -1); calls back durable. */
  flush(db: number, done: (error: Error | null) => void): void;
}
