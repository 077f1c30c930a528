/**
 * A table's writes that the LMDB writer thread has not committed yet (the engine's overlay):
 * reads must see them until LMDB does. Writes are committed in the order they were made, so
 * they form a queue: `add` appends, `release(count)` drops the oldest once the writer has
 * committed them.
 *
 * The writes live in a KeyRing (key-ring.ts), with no JavaScript object per write. Before,
 * each write was an object in a Map from its key's hash; each stayed reachable for the
 * handoff interval and more (about a second), so every young-generation collection copied
 * tens of thousands of them, and the Map's inserts and deletes missed the CPU caches. Unlike
 * the record cache this ring never drops a write it still needs: when full it grows (the
 * writer is behind), and once empty it shrinks if it was far larger than it needed to be.
 * Pure: no I/O.
 */
import { KeyRing, RING_BYTES_MAX, entrySize, keysMaxFor } from './key-ring.js';

const INITIAL_BYTES = 1024 * 1024;

export class PendingWrites {
  private ring: KeyRing;
  /** Writes added since the start, and how many of the oldest the writer committed. */
  private addedCount = 0;
  private releasedCount = 0;
  /** The most bytes held since the ring was last made: a shrink does not undo a growth. */
  private peakBytes = 0;

  constructor(private readonly initialBytes: number = INITIAL_BYTES) {
    this.ring = new KeyRing(initialBytes);
  }

  /** Writes added so far: `release` takes such a count. */
  get added(): number {
    return this.addedCount;
  }

  /** Writes not released yet (including those a later write of their key replaced). */
  get size(): number {
    return this.addedCount - this.releasedCount;
  }

  /** Bytes of ring held (it grows while the writer is behind). */
  get capacity(): number {
    return this.ring.capacity;
  }

  /**
   * The newest pending write of `key`: its value (a view valid until the next add or
   * release), null for a pending removal, undefined when the key has no pending write.
   */
  get(key: Buffer, hash: number): Buffer | null | undefined {
    const offset = this.ring.find(key, hash);
    return offset < 0 ? undefined : this.ring.valueAt(offset);
  }

  /** Records a write of `key` (`value` null for a removal). */
  add(key: Buffer, hash: number, value: Buffer | null): void {
    const valueLength = value === null ? 0 : value.length;
    if (!this.ring.fits(key.length, valueLength)) {
      const grown = this.copiedInto(new KeyRing(
        this.grownCapacity(entrySize(key.length, valueLength))));
      if (!grown.fits(key.length, valueLength)) {
        throw new RangeError(`over ${RING_BYTES_MAX} bytes of writes wait for the LMDB writer`);
      }
      this.ring = grown;
    }
    this.ring.append(key, hash, value);
    this.addedCount++;
    if (this.ring.usedBytes > this.peakBytes) this.peakBytes = this.ring.usedBytes;
  }

  /** The writer committed the first `count` writes ever added: drop those still pending. */
  release(count: number): void {
    while (this.releasedCount < count) {
      this.ring.dropOldest();
      this.releasedCount++;
    }
    // Grown for a burst the writer has caught up with: back to a size for what is needed
    // now. Under a steady load the peak stays, and so does the ring.
    if (this.ring.length === 0 && this.ring.capacity > 4 * Math.max(this.peakBytes,
      this.initialBytes)) {
      this.ring = new KeyRing(this.initialBytes);
    }
    if (this.ring.length === 0) this.peakBytes = 0;
  }

  /** Calls `visit` with the hash of every pending write's key (key-filter.ts). */
  forEachHash(visit: (hash: number) => void): void {
    this.ring.forEachHash(visit);
  }

  /**
   * The newest pending write of each key with start <= key < end, in key order, as copies
   * the caller may keep (value null for a removal).
   */
  inRange(start: Buffer, end: Buffer): Array<[Buffer, Buffer | null]> {
    const found: Array<[Buffer, Buffer | null]> = [];
    if (this.size === 0) return found;
    this.ring.forEachInRange(start, end, (key, value) => {
      found.push([Buffer.from(key), value === null ? null : Buffer.from(value)]);
    });
    return found.sort((a, b) => Buffer.compare(a[0], b[0]));
  }

  /**
   * A capacity that holds everything pending plus `entryBytes`, and indexes twice the keys
   * pending, so that it does not grow again at once. Past RING_BYTES_MAX (2 GiB of small
   * writes behind; values of 64 KiB or more live outside the ring and do not count) the
   * write fails with an error.
   */
  private grownCapacity(entryBytes: number): number {
    let capacity = this.ring.capacity * 2;
    while (capacity < 2 * (this.ring.usedBytes + entryBytes) ||
      keysMaxFor(capacity) < 2 * (this.ring.keys + 1)) capacity *= 2;
    return Math.min(capacity, RING_BYTES_MAX);
  }

  /** Every entry of the current ring appended, oldest first, to `ring`: same index. */
  private copiedInto(ring: KeyRing): KeyRing {
    this.ring.forEach((key, hash, value) => ring.append(key, hash, value));
    return ring;
  }
}
