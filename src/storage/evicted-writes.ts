/**
 * Values the record cache let go of while their key may still have had a write the LMDB
 * writer had not committed (lmdb-engine.ts): a read that misses the cache finds them here
 * before it would read an older value from LMDB. The record cache drops its oldest entries
 * when full and does not take values over its entry limit; a table whose pending writes
 * are kept without an index (pending-writes.ts: keys only) relies on the cache for their
 * values, in point and range reads, so whatever the cache drops while the key may be
 * pending comes here.
 *
 * Each value stays until every write pending when it came here is committed: then LMDB
 * holds it or a newer value. A newer write of the key before then needs no forgetting
 * here: the cache holds it, and if the cache drops or refuses it while it is pending, it
 * comes here and replaces the older value; once it is committed, so is every write pending
 * when the older value came, which is then gone. Under a working set that fits the cache
 * this is empty.
 * Pure: no I/O.
 */
import { PendingWrites } from './pending-writes.js';

export class EvictedWrites {
  private readonly writes = new PendingWrites(64 * 1024);
  /**
   * Pairs [table writes added when a value came, values added up to it], oldest first,
   * from `head` on: a value goes once the table's writes up to its mark are committed.
   */
  private marks: number[] = [];
  private head = 0;

  /** Values held (including those a newer write of their key made unused). */
  get size(): number {
    return this.writes.size;
  }

  /** The value kept for `key` (null: absent), or undefined. */
  get(key: Buffer, hash: number): Buffer | null | undefined {
    return this.writes.get(key, hash);
  }

  /** Keeps `value` for `key` until the first `pendingAdded` writes of the table commit. */
  add(key: Buffer, hash: number, value: Buffer | null, pendingAdded: number): void {
    this.writes.add(key, hash, value);
    this.marks.push(pendingAdded, this.writes.added);
  }

  /** The table's first `pendingReleased` writes are committed. */
  release(pendingReleased: number): void {
    const marks = this.marks;
    let released = -1;
    while (this.head < marks.length && (marks[this.head] as number) <= pendingReleased) {
      released = marks[this.head + 1] as number;
      this.head += 2;
    }
    if (released < 0) return;
    this.writes.release(released);
    if (this.head === marks.length) {
      this.marks = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > marks.length) {
      this.marks = marks.slice(this.head);
      this.head = 0;
    }
  }
}
