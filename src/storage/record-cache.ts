/**
 * A bounded read cache of a table's values, so a point read of a recently used key costs a
 * hash lookup instead of an LMDB B-tree descent (about 1 us for a random key among 100k on
 * the benchmark machine; every SET reads the old record too, for counts, the expiry index
 * and the digest).
 *
 * The values live in a KeyRing (key-ring.ts): no JavaScript object per entry. When the ring
 * or its index is full the oldest entries are dropped, first in first out; a read that
 * misses puts the value back at the front. A new value of the same length as the cached
 * one is written over it in place: no new entry, so nothing is dropped for it and the index
 * is left alone (appending cost a SET about 0.4 us in the record cache's 64 MiB ring,
 * mostly cache misses in the index and in the entry dropped). It also remembers keys known
 * to be absent (a removal, or a read LMDB did not find), so the first SET of a new key and
 * a GET of a missing one skip LMDB too. The cache is a copy of what the table holds: the table must
 * call `put` on every write and removal, and may then trust a hit. Pure.
 */
import { ENTRY_HEADER_BYTES, KeyRing, type DropListener } from './key-ring.js';

export class RecordCache {
  private readonly ring: KeyRing;
  private readonly entryBytesMax: number;
  hits = 0;
  misses = 0;

  /**
   * @param capacity bytes of the ring
   * @param entryBytesMax values larger than this (with key and a 12-byte header) are not
   *   cached
   * @param onDrop told of each key's value (or absence) the cache drops to make room
   */
  constructor(capacity: number, entryBytesMax: number, onDrop: DropListener | null = null) {
    this.ring = new KeyRing(capacity, true, onDrop);
    this.entryBytesMax = Math.min(entryBytesMax, this.ring.capacity);
  }

  /** Keys cached. */
  get size(): number {
    return this.ring.keys;
  }

  /** Bytes of the ring in use (cached values and replaced ones not yet dropped). */
  get usedBytes(): number {
    return this.ring.usedBytes;
  }

  /**
   * The cached value of `key` (whose 30-bit hash is `hash`), a view valid until the next
   * `put` (which may overwrite it in place); null when the key is known to be absent;
   * undefined when not cached.
   */
  get(key: Buffer, hash: number): Buffer | null | undefined {
    const offset = this.ring.find(key, hash);
    if (offset < 0) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return this.ring.valueAt(offset);
  }

  /** As `get`, without counting a hit or a miss (a range read's values, not a lookup). */
  peek(key: Buffer, hash: number): Buffer | null | undefined {
    const offset = this.ring.find(key, hash);
    return offset < 0 ? undefined : this.ring.valueAt(offset);
  }

  /**
   * Caches `value` (null: absent) as the value of `key`, replacing what was cached for it:
   * in place when the lengths match (a SET over a value of the same size, the common case),
   * else as a new entry. Refused when the value is too large to cache: then the key is not
   * cached at all (and its older value is dropped without telling onDrop).
   */
  put(key: Buffer, hash: number, value: Buffer | null): CachePut {
    const ring = this.ring;
    const valueLength = value === null ? 0 : value.length;
    if (ENTRY_HEADER_BYTES + key.length + valueLength > this.entryBytesMax) {
      ring.forget(key, hash);
      return CachePut.Refused;
    }
    const offset = ring.find(key, hash);
    const result = offset >= 0 && ring.hasValue(offset) ? CachePut.CachedOverValue
      : CachePut.Cached;
    if (offset >= 0 && ring.replaceValue(offset, value)) return result;
    while (!ring.fits(key.length, valueLength)) ring.dropOldest();
    ring.append(key, hash, value);
    return result;
  }
}

/** What `RecordCache.put` did. */
export const enum CachePut {
  /** Too large to cache: the key is not cached at all. */
  Refused,
  /** Cached; the key was not cached before, or cached as absent. */
  Cached,
  /** Cached over a value of the key's: the table held the key already. */
  CachedOverValue,
}
