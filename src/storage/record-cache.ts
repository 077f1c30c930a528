/**
 * A bounded read cache of a table's values, in one ring of bytes, so a point read of a
 * recently used key costs a hash lookup instead of an LMDB B-tree descent (about 1 us for
 * a random key among 100k on the benchmark machine; every SET reads the old record too,
 * for counts, the expiry index and the digest).
 *
 * It holds no JavaScript object per entry, so the garbage collector never walks it:
 *  - entries are appended to a ring (`bytes`) as [hash u32][key length u32][value length
 *    u32][key][value], padded to 4 bytes so headers are read as words of a Uint32Array;
 *  - an open-addressing index (linear probing, backward-shift deletion) in an Int32Array
 *    maps the key's hash (a 30-bit integer) to the entry's offset. A JavaScript Map did the
 *    same with a rehash every so often under this churn and one more cache miss per lookup:
 *    it made a cached put cost about 1 us in the SET -P 1 profile.
 * When the ring (or the index) is full the oldest entries are overwritten, first in first
 * out; a read that misses puts the value back at the front.
 *
 * Two keys with the same hash share one index slot: the later one replaces the earlier, and
 * a lookup compares the whole key, so a collision only costs a miss. The cache is a copy of
 * what the table holds: the table must call `put` or `forget` on every write, and may then
 * trust a hit. Pure: no I/O.
 */

const HEADER_BYTES = 12;
/** A hash no entry has (hashes are 30 bits): marks "the rest of this lap is unused". */
const LAP_END = 0xffffffff;
/** One index slot per this many bytes of ring; at most half the slots are used. */
const RING_BYTES_PER_SLOT = 32;
const SLOTS_MIN = 16;

export class RecordCache {
  private readonly bytes: Buffer;
  /** The same memory as 32-bit words: entry headers. */
  private readonly words: Uint32Array;
  /** Slot i is [hash, offset + 1] at [2i, 2i + 1]; offset + 1 = 0 marks a free slot. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly entriesMax: number;
  private entries = 0;
  /**
   * Positions count bytes written since the start, across laps (a lap is one pass over
   * the ring): `head` is where the next entry goes, `tail` the oldest entry still in the
   * ring. The live bytes are [tail, head), at most the ring's size.
   */
  private head = 0;
  private tail = 0;
  hits = 0;
  misses = 0;

  /**
   * @param capacity bytes of the ring (below 2^30, so offsets are small integers; rounded
   *   down to a multiple of 4)
   * @param entryBytesMax values larger than this (with key and header) are not cached
   */
  constructor(capacity: number, private readonly entryBytesMax: number) {
    if (!Number.isInteger(capacity) || capacity < HEADER_BYTES || capacity >= 2 ** 30) {
      throw new RangeError(`record cache capacity ${capacity} is out of range`);
    }
    this.bytes = Buffer.allocUnsafeSlow(capacity & ~3);
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset,
      this.bytes.length >> 2);
    this.entryBytesMax = Math.min(entryBytesMax, this.bytes.length);
    let slots = SLOTS_MIN;
    while (slots * RING_BYTES_PER_SLOT < capacity) slots *= 2;
    this.index = new Int32Array(2 * slots);
    this.mask = slots - 1;
    this.entriesMax = slots >> 1;
  }

  /** Entries a lookup can find. */
  get size(): number {
    return this.entries;
  }

  /** Bytes of the ring in use (live entries and the ones replaced but not yet overwritten). */
  get usedBytes(): number {
    return this.head - this.tail;
  }

  /**
   * The cached value of `key` (whose 30-bit hash is `hash`), a view of the ring valid
   * until the next `put`; undefined when not cached.
   */
  get(key: Buffer, hash: number): Buffer | undefined {
    const slot = this.find(hash);
    if (slot < 0) {
      this.misses++;
      return undefined;
    }
    const offset = (this.index[2 * slot + 1] as number) - 1;
    const word = offset >> 2;
    const keyLength = this.words[word + 1] as number;
    const keyStart = offset + HEADER_BYTES;
    if (keyLength !== key.length || !sameBytes(this.bytes, keyStart, key)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const valueStart = keyStart + keyLength;
    return this.bytes.subarray(valueStart, valueStart + (this.words[word + 2] as number));
  }

  /** Caches `value` as the value of `key`, replacing what was cached for it. */
  put(key: Buffer, hash: number, value: Buffer): void {
    if (HEADER_BYTES + key.length + value.length > this.entryBytesMax) {
      this.forget(hash);
      return;
    }
    const size = entrySize(key.length, value.length);
    const capacity = this.bytes.length;
    let offset = this.head % capacity;
    if (capacity - offset < size) {
      // The entry does not fit before the end of the ring: the rest of the lap is unused.
      this.makeRoom(capacity - offset);
      if (capacity - offset >= 4) this.words[offset >> 2] = LAP_END;
      this.head += capacity - offset;
      offset = 0;
    }
    this.makeRoom(size);
    const words = this.words;
    const word = offset >> 2;
    words[word] = hash;
    words[word + 1] = key.length;
    words[word + 2] = value.length;
    this.bytes.set(key, offset + HEADER_BYTES);
    this.bytes.set(value, offset + HEADER_BYTES + key.length);
    this.head += size;
    this.link(hash, offset);
  }

  /** Drops what is cached for `key` (and for any key sharing its hash). */
  forget(hash: number): void {
    const slot = this.find(hash);
    if (slot >= 0) this.unlink(slot);
  }

  /**
   * Overwrites the oldest entries until `size` bytes after `head` are free and the index
   * has room for one more entry.
   */
  private makeRoom(size: number): void {
    const capacity = this.bytes.length;
    const words = this.words;
    while (this.head + size - this.tail > capacity || this.entries >= this.entriesMax) {
      const offset = this.tail % capacity;
      const left = capacity - offset;
      const word = offset >> 2;
      const hash = words[word] as number;
      if (left < HEADER_BYTES || hash === LAP_END) {
        this.tail += left;
        continue;
      }
      const slot = this.find(hash);
      if (slot >= 0 && this.index[2 * slot + 1] === offset + 1) this.unlink(slot);
      this.tail += entrySize(words[word + 1] as number, words[word + 2] as number);
    }
  }

  /** The index slot holding `hash`, or -1. */
  private find(hash: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      if (index[2 * slot + 1] === 0) return -1;
      if (index[2 * slot] === hash) return slot;
    }
  }

  /** Points `hash` at the entry at `offset` (replacing what it pointed at). */
  private link(hash: number, offset: number): void {
    const index = this.index;
    const mask = this.mask;
    let slot = hash & mask;
    while (index[2 * slot + 1] !== 0 && index[2 * slot] !== hash) slot = (slot + 1) & mask;
    if (index[2 * slot + 1] === 0) this.entries++;
    index[2 * slot] = hash;
    index[2 * slot + 1] = offset + 1;
  }

  /**
   * Frees a slot, moving later slots of the same probe run back into the hole so that
   * lookups never need tombstones.
   */
  private unlink(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let hole = slot;
    for (let next = (slot + 1) & mask; index[2 * next + 1] !== 0; next = (next + 1) & mask) {
      const home = (index[2 * next] as number) & mask;
      // The entry may move into the hole when the hole lies on its probe path.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        index[2 * hole] = index[2 * next] as number;
        index[2 * hole + 1] = index[2 * next + 1] as number;
        hole = next;
      }
    }
    index[2 * hole] = 0;
    index[2 * hole + 1] = 0;
    this.entries--;
  }
}

/** Bytes of an entry in the ring: header, key and value, padded to a multiple of 4. */
function entrySize(keyLength: number, valueLength: number): number {
  return (HEADER_BYTES + keyLength + valueLength + 3) & ~3;
}

function sameBytes(bytes: Buffer, start: number, key: Buffer): boolean {
  const length = key.length;
  for (let index = 0; index < length; index++) {
    if (bytes[start + index] !== key[index]) return false;
  }
  return true;
}
