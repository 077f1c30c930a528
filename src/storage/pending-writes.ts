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
 * writer is behind), and it shrinks again once it has been far larger than needed for a
 * while, even under a steady load that never lets it empty: a ring grown to 64 MiB for a
 * burst cost 0.25-1 us an append (cache and TLB misses, and fresh pages on its first lap)
 * where one of 4 MiB cost 0.1 us, and SET -P 1 spent 8 % of its time there.
 *
 * A table whose record cache answers its reads (lmdb-engine.ts) keeps its pending writes
 * without an index (`hasIndex` false), as a queue of keys for range reads and the key
 * filter: a write costs a copy of its key at the ring's head and nothing else, and a range
 * read takes the values of the keys pending in its range from the table (`inRange`'s
 * `valueOf`), where the record cache or the writes it evicted hold them. `mayHold` then
 * says whether a key may have a pending write (a count of pending writes per hash bucket),
 * which is all the cache needs to know when it drops an entry. Keys only: at SET -P 16 the
 * copy of key and record into a ring of 16 MiB was ~9 % of the main thread.
 * Pure: no I/O.
 */
import { assert } from '../util/assert.js';
import { KeyRing, RING_BYTES_MAX, keysMaxFor } from './key-ring.js';

const INITIAL_BYTES = 1024 * 1024;
/** Releases (writer commits) over which the most bytes held decide whether to shrink. */
const SHRINK_WINDOW_RELEASES = 4;
/** A ring this many times larger than the most bytes held in a window shrinks. */
const OVERSIZE_FACTOR = 4;
/** Hash buckets counting the pending writes of a ring without an index (512 KiB). */
const PENDING_BUCKETS = 1 << 17;

export class PendingWrites {
  private ring: KeyRing;
  /** Writes added since the start, and how many of the oldest the writer committed. */
  private addedCount = 0;
  private releasedCount = 0;
  /** The most bytes held in this window of releases, and the releases in it so far. */
  private peakBytes = 0;
  private windowReleases = 0;

  /** Without an index: pending writes per hash bucket (see `mayHold`). */
  private readonly bucketCounts: Int32Array | null;

  constructor(private readonly initialBytes: number = INITIAL_BYTES,
      readonly hasIndex = true) {
    this.ring = new KeyRing(initialBytes, hasIndex);
    this.bucketCounts = hasIndex ? null : new Int32Array(PENDING_BUCKETS);
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
    assert(this.hasIndex, 'get from pending writes kept without an index');
    const offset = this.ring.find(key, hash);
    return offset < 0 ? undefined : this.ring.valueAt(offset);
  }

  /** Records a write of `key` (`value` null for a removal). */
  add(key: Buffer, hash: number, value: Buffer | null): void {
    const valueLength = value === null ? 0 : value.length;
    if (!this.ring.fits(key.length, valueLength)) {
      const grown = this.copiedInto(new KeyRing(
        this.grownCapacity(this.ring.entryBytes(key.length, valueLength)), this.hasIndex));
      if (!grown.fits(key.length, valueLength)) {
        throw new RangeError(`over ${RING_BYTES_MAX} bytes of writes wait for the LMDB writer`);
      }
      this.ring = grown;
    }
    this.ring.append(key, hash, value);
    this.addedCount++;
    const counts = this.bucketCounts;
    if (counts !== null) {
      const bucket = hash & (PENDING_BUCKETS - 1);
      counts[bucket] = (counts[bucket] as number) + 1;
    }
    if (this.ring.usedBytes > this.peakBytes) this.peakBytes = this.ring.usedBytes;
  }

  /** The writer committed the first `count` writes ever added: drop those still pending. */
  release(count: number): void {
    const counts = this.bucketCounts;
    while (this.releasedCount < count) {
      const hash = this.ring.dropOldest();
      this.releasedCount++;
      if (counts !== null) {
        const bucket = hash & (PENDING_BUCKETS - 1);
        counts[bucket] = (counts[bucket] as number) - 1;
      }
    }
    this.windowReleases++;
    // Grown for a burst the writer has caught up with: back to a size for what is needed
    // now. An empty ring goes at once (nothing to copy); one still holding writes waits for
    // the end of a window, so that a load with short pauses does not shrink and regrow it.
    const empty = this.ring.length === 0;
    if (!empty && this.windowReleases < SHRINK_WINDOW_RELEASES) return;
    if (this.ring.capacity > OVERSIZE_FACTOR * Math.max(this.peakBytes, this.initialBytes)) {
      const capacity = this.neededCapacity();
      if (capacity < this.ring.capacity) {
        this.ring = this.copiedInto(new KeyRing(capacity, this.hasIndex));
      }
    }
    this.peakBytes = this.ring.usedBytes;
    this.windowReleases = 0;
  }

  /**
   * False when no pending write's key has `hash` (so the key has none), true when one may.
   * Only for writes kept without an index.
   */
  mayHold(hash: number): boolean {
    const counts = this.bucketCounts;
    assert(counts !== null, 'mayHold asked of pending writes kept with an index');
    return (counts[hash & (PENDING_BUCKETS - 1)] as number) > 0;
  }

  /** Calls `visit` with the hash of every pending write's key (key-filter.ts). */
  forEachHash(visit: (hash: number) => void): void {
    this.ring.forEachHash(visit);
  }

  /**
   * The newest pending write of each key with start <= key < end, in key order, as copies
   * the caller may keep (value null for a removal). Kept without an index (no values),
   * `valueOf` must give each such key's value now (null when absent): the newest write's.
   */
  inRange(start: Buffer, end: Buffer,
      valueOf: ((key: Buffer, hash: number) => Buffer | null) | null = null):
      Array<[Buffer, Buffer | null]> {
    if (this.size === 0) return [];
    assert(this.hasIndex || valueOf !== null, 'pending keys in range without their values');
    // Without an index every write in the range is visited, oldest first: the last wins.
    const found = new Map<string, [Buffer, Buffer | null, number]>();
    this.ring.forEachInRange(start, end, (key, value, hash) => {
      const copy = Buffer.from(key);
      found.set(copy.toString('latin1'),
        [copy, value === null || !this.hasIndex ? null : Buffer.from(value), hash]);
    });
    const writes: Array<[Buffer, Buffer | null]> = [];
    for (const [key, value, hash] of found.values()) {
      if (this.hasIndex) {
        writes.push([key, value]);
      } else {
        const now = (valueOf as (key: Buffer, hash: number) => Buffer | null)(key, hash);
        writes.push([key, now === null ? null : Buffer.from(now)]);
      }
    }
    return writes.sort((a, b) => Buffer.compare(a[0], b[0]));
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

  /**
   * The capacity a shrunk ring gets: twice this window's most bytes held and twice what it
   * holds now, and an index for twice the keys now held (as after a growth).
   */
  private neededCapacity(): number {
    let capacity = this.initialBytes;
    while (capacity < 2 * Math.max(this.peakBytes, this.ring.usedBytes) ||
      keysMaxFor(capacity) < 2 * this.ring.keys) capacity *= 2;
    return capacity;
  }

  /** Every entry of the current ring appended, oldest first, to `ring`: same index. */
  private copiedInto(ring: KeyRing): KeyRing {
    this.ring.forEach((key, hash, value) => ring.append(key, hash, value));
    return ring;
  }
}
