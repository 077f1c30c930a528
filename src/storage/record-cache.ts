/**
 * A bounded read cache of a table's values, in one ring of bytes, so a point read of a
 * recently used key costs a hash lookup instead of an LMDB B-tree descent (about 1 us for
 * a random key among 100k on the benchmark machine, against about 0.15 us here; every SET
 * reads the old record too, for counts, the expiry index and the digest).
 *
 * It holds no JavaScript object per entry: entries are appended to a ring (`bytes`) as
 * [hash u32][key length u32][value length u32][key][value], padded to 4 bytes so the header
 * is read as words of a Uint32Array (Buffer#readUInt32LE was 7 % of a GET profile), and a
 * Map from the key's hash
 * (a small integer) to the entry's offset finds them. The Map stores numbers only, so the
 * garbage collector never visits the entries. When the ring is full the oldest entries are
 * overwritten (first in, first out) and dropped from the Map; a read that misses puts the
 * value back at the front.
 *
 * Two keys with the same hash share one Map slot: the later one replaces the earlier, and a
 * lookup compares the whole key, so a collision only costs a miss. The cache is a copy of
 * what the table holds: the table must call `put` or `forget` on every write, and may then
 * trust a hit. Pure: no I/O.
 */

const HEADER_BYTES = 12;
/** A hash no entry has (hashes are 30 bits): marks "the rest of this lap is unused". */
const LAP_END = 0xffffffff;

export class RecordCache {
  private readonly bytes: Buffer;
  /** The same memory as 32-bit words: entry headers. */
  private readonly words: Uint32Array;
  private readonly entries = new Map<number, number>();
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
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length >> 2);
    this.entryBytesMax = Math.min(entryBytesMax, this.bytes.length);
  }

  /** Entries the Map points at. */
  get size(): number {
    return this.entries.size;
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
    const offset = this.entries.get(hash);
    if (offset === undefined) {
      this.misses++;
      return undefined;
    }
    const bytes = this.bytes;
    const word = offset >> 2;
    const keyLength = this.words[word + 1] as number;
    const keyStart = offset + HEADER_BYTES;
    if (keyLength !== key.length || !sameBytes(bytes, keyStart, key)) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    const valueStart = keyStart + keyLength;
    return bytes.subarray(valueStart, valueStart + (this.words[word + 2] as number));
  }

  /** Caches `value` as the value of `key`, replacing what was cached for it. */
  put(key: Buffer, hash: number, value: Buffer): void {
    if (HEADER_BYTES + key.length + value.length > this.entryBytesMax) {
      this.entries.delete(hash);
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
    const bytes = this.bytes;
    const words = this.words;
    const word = offset >> 2;
    words[word] = hash;
    words[word + 1] = key.length;
    words[word + 2] = value.length;
    bytes.set(key, offset + HEADER_BYTES);
    bytes.set(value, offset + HEADER_BYTES + key.length);
    this.head += size;
    this.entries.set(hash, offset);
  }

  /** Drops what is cached for `key` (and for any key sharing its hash). */
  forget(hash: number): void {
    this.entries.delete(hash);
  }

  /** Overwrites the oldest entries until `size` bytes after `head` are free. */
  private makeRoom(size: number): void {
    const capacity = this.bytes.length;
    const words = this.words;
    while (this.head + size - this.tail > capacity) {
      const offset = this.tail % capacity;
      const left = capacity - offset;
      const word = offset >> 2;
      const hash = words[word] as number;
      if (left < HEADER_BYTES || hash === LAP_END) {
        this.tail += left;
        continue;
      }
      if (this.entries.get(hash) === offset) this.entries.delete(hash);
      this.tail += entrySize(words[word + 1] as number, words[word + 2] as number);
    }
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
