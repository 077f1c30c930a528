/**
 * Key-value entries in one ring of bytes with a hash index, and no JavaScript object per
 * entry, so the garbage collector never walks them. The record cache (record-cache.ts) and
 * the engine's uncommitted writes (pending-writes.ts) are both built on it: entries are
 * appended at the head and dropped from the tail, oldest first.
 *
 *  - An entry is [hash u32][key length u32][value length u32][key][value], padded to 4 bytes
 *    so headers are read as words of a Uint32Array. A value length of REMOVED marks a
 *    removal (no value bytes). A value of OUT_OF_LINE_BYTES or more is kept in a Buffer of
 *    its own, named by a number in the entry (value length OUT_OF_LINE): the ring then
 *    stays small whatever the values, and a big value is not copied when the ring grows.
 *  - The index is open addressing in an Int32Array (linear probing, backward-shift deletion,
 *    so no tombstones): slot i is [hash, offset + 1]. It points at the newest entry of each
 *    key; older entries of a key stay in the ring, unindexed, until dropped. Keys sharing a
 *    hash get a slot each (a lookup compares whole keys). A JavaScript Map did this job at
 *    first, and under SET churn it rehashed and missed the CPU caches more: about 1 us a
 *    put in the profile, against 0.25 us now. The index starts small and doubles as keys
 *    come (at most half its slots used), up to the size the ring's capacity allows: sized
 *    for the capacity from the start, the record cache's index was 16 MiB for its 64 MiB
 *    ring whatever the keys, and with 100k keys its lookups (SET reads the old record)
 *    missed more: 7.6-7.9 % of SET -P 16's main thread against 4.0-4.3 % with 2 MiB.
 *  - A ring made without an index (`hasIndex` false) is a queue of keys only: each entry
 *    says whether it was a removal, but no value bytes are kept (value length ELSEWHERE;
 *    `valueAt` gives an empty view), appends and drops touch no index, and `find`, `forget`
 *    and `replaceValue` are not used on it. pending-writes.ts keeps its writes this way
 *    when the record cache answers reads: the values are there, and an append copies ~20
 *    bytes of key instead of ~150 bytes of key and record into a ring of several MiB.
 *  - `head` is the offset where the next entry goes, `tail` the offset of the oldest, and
 *    `used` the bytes from tail to head around the ring. An entry never wraps: the end of
 *    the ring too short for it is skipped (marked with LAP_END when 4 bytes fit).
 * Pure: no I/O.
 */
import { assert } from '../util/assert.js';
import { bufferView } from '../util/buffers.js';

/** The value length of an entry that records a removal. */
const REMOVED = 0xffffffff;
/** The value length of an entry whose value is kept outside the ring (its id follows the key). */
const OUT_OF_LINE = 0xfffffffe;
/** The value length of a write's entry in a ring without an index: its value is not kept. */
const ELSEWHERE = 0xfffffffd;
/** `valueAt` of an ELSEWHERE entry. */
const NO_BYTES = Buffer.alloc(0);
/** Values this large are kept outside the ring. */
export const OUT_OF_LINE_BYTES = 64 * 1024;
/** Offsets + 1 must fit the Int32Array index. */
export const RING_BYTES_MAX = 2 ** 31 - 8;
/** Bytes of an entry's header (hash, key length, value length). */
export const ENTRY_HEADER_BYTES = 12;
/** A hash no entry has (hashes are 30 bits): "the rest of this lap is unused". */
const LAP_END = 0xffffffff;
/** One index slot per this many bytes of ring at most; at most half the slots are used. */
const RING_BYTES_PER_SLOT = 32;
const SLOTS_MIN = 16;

/**
 * Bytes of an entry in the ring: header, key and value (or the id of a value kept outside),
 * padded to a multiple of 4. `valueLength` is a value's length, REMOVED, OUT_OF_LINE or
 * ELSEWHERE.
 */
export function entrySize(keyLength: number, valueLength: number): number {
  const inRing = valueLength === REMOVED || valueLength === ELSEWHERE ? 0
    : valueLength === OUT_OF_LINE || valueLength >= OUT_OF_LINE_BYTES ? 4 : valueLength;
  return (ENTRY_HEADER_BYTES + keyLength + inRing + 3) & ~3;
}

/** Index slots of a ring of `capacity` bytes at most (a power of two). */
function slotsFor(capacity: number): number {
  let slots = SLOTS_MIN;
  while (slots * RING_BYTES_PER_SLOT < capacity) slots *= 2;
  return slots;
}

/** Keys a ring of `capacity` bytes indexes at most (half its index slots). */
export function keysMaxFor(capacity: number): number {
  return slotsFor(capacity) >> 1;
}

/**
 * Told of an entry `dropOldest` drops while it is its key's newest (views valid during the
 * call only).
 */
export type DropListener = (key: Buffer, hash: number, value: Buffer | null) => void;

export class KeyRing {
  private readonly bytes: Buffer;
  /** bytes.buffer and bytes.byteOffset, for views of values (see bufferView). */
  private readonly memory: ArrayBuffer;
  private readonly base: number;
  /** The same memory as 32-bit words: entry headers. */
  private readonly words: Uint32Array;
  /** Grows (doubling) up to slotsMax slots as keys come; see above. */
  private index: Int32Array;
  private mask: number;
  private readonly slotsMax: number;
  private readonly entriesMax: number;
  /** Keys the index holds. */
  private indexed = 0;
  /** Entries in the ring, indexed or not. */
  private stored = 0;
  private head = 0;
  private tail = 0;
  private used = 0;
  /** Values kept outside the ring, by id. */
  private readonly outOfLine = new Map<number, Buffer>();
  private nextId = 1;

  /**
   * @param capacity bytes (12 up to RING_BYTES_MAX; rounded down to a multiple of 4)
   * @param hasIndex false: a queue of entries without an index (see above)
   * @param onDrop told of each newest entry of a key that `dropOldest` drops
   */
  constructor(capacity: number, readonly hasIndex = true,
      private readonly onDrop: DropListener | null = null) {
    if (!Number.isInteger(capacity) || capacity < ENTRY_HEADER_BYTES || capacity > RING_BYTES_MAX) {
      throw new RangeError(`ring capacity ${capacity} is out of range`);
    }
    this.bytes = Buffer.allocUnsafeSlow(capacity & ~3);
    this.memory = this.bytes.buffer as ArrayBuffer;
    this.base = this.bytes.byteOffset;
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset,
      this.bytes.length >> 2);
    this.slotsMax = hasIndex ? slotsFor(capacity) : SLOTS_MIN;
    this.index = new Int32Array(2 * SLOTS_MIN);
    this.mask = SLOTS_MIN - 1;
    this.entriesMax = this.slotsMax >> 1;
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Keys that `find` can find. */
  get keys(): number {
    return this.indexed;
  }

  /** Entries in the ring, including those a newer entry of their key replaced. */
  get length(): number {
    return this.stored;
  }

  /** Bytes of the ring in use. */
  get usedBytes(): number {
    return this.used;
  }

  /** The offset of the newest entry of `key` (whose hash is `hash`), or -1. */
  find(key: Buffer, hash: number): number {
    const slot = this.slotOfKey(key, hash);
    return slot < 0 ? -1 : (this.index[2 * slot + 1] as number) - 1;
  }

  /**
   * The value of the entry at `offset` (a view of the ring), null for a removal, empty for
   * a write in a ring without an index (which keeps no values).
   */
  valueAt(offset: number): Buffer | null {
    const word = offset >> 2;
    const valueLength = this.words[word + 2] as number;
    if (valueLength === REMOVED) return null;
    if (valueLength === ELSEWHERE) return NO_BYTES;
    const valueStart = offset + ENTRY_HEADER_BYTES + (this.words[word + 1] as number);
    if (valueLength === OUT_OF_LINE) {
      return this.outOfLine.get(this.bytes.readUInt32LE(valueStart)) as Buffer;
    }
    return bufferView(this.memory, this.base + valueStart, valueLength);
  }

  /** Whether the entry at `offset` holds a value (not a removal). */
  hasValue(offset: number): boolean {
    return this.words[(offset >> 2) + 2] !== REMOVED;
  }

  /**
   * Writes `value` (null for a removal) over the value of the entry at `offset` when it has
   * the same length (a removal over a removal), and says whether it did. The entry keeps
   * its place in the ring, and views of its old value now show the new one.
   */
  replaceValue(offset: number, value: Buffer | null): boolean {
    const valueLength = this.words[(offset >> 2) + 2] as number;
    if (value === null) return valueLength === REMOVED;
    if (valueLength !== value.length) return false;
    this.bytes.set(value, offset + ENTRY_HEADER_BYTES + (this.words[(offset >> 2) + 1] as number));
    return true;
  }

  /**
   * Bytes an entry of a key and a value of these lengths takes in this ring (a removal
   * counts as a value of length 0).
   */
  entryBytes(keyLength: number, valueLength: number): number {
    return entrySize(keyLength, this.hasIndex ? valueLength : ELSEWHERE);
  }

  /** Whether an entry of these sizes can be appended without dropping any. */
  fits(keyLength: number, valueLength: number): boolean {
    const capacity = this.bytes.length;
    const size = this.entryBytes(keyLength, valueLength);
    const left = capacity - this.head;
    const skipped = left < size ? left : 0;
    return this.used + skipped + size <= capacity && this.indexed < this.entriesMax;
  }

  /**
   * Appends an entry (`value` null for a removal; without an index only whether it is one
   * counts) and indexes it as its key's newest. `fits` must have said yes.
   */
  append(key: Buffer, hash: number, value: Buffer | null): void {
    const capacity = this.bytes.length;
    const valueLength = value === null ? REMOVED : !this.hasIndex ? ELSEWHERE
      : value.length >= OUT_OF_LINE_BYTES ? OUT_OF_LINE : value.length;
    const size = entrySize(key.length, valueLength);
    let offset = this.head;
    if (capacity - offset < size) {
      if (capacity - offset >= 4) this.words[offset >> 2] = LAP_END;
      this.used += capacity - offset;
      offset = 0;
    }
    assert(this.used + size <= capacity, 'ring entry appended without room');
    const word = offset >> 2;
    this.words[word] = hash;
    this.words[word + 1] = key.length;
    this.words[word + 2] = valueLength;
    this.bytes.set(key, offset + ENTRY_HEADER_BYTES);
    if (valueLength === OUT_OF_LINE) {
      const id = this.nextId;
      this.nextId = id === 0xffffffff ? 1 : id + 1;
      // A copy: callers reuse their buffers.
      this.outOfLine.set(id, Buffer.from(value as Buffer));
      this.bytes.writeUInt32LE(id, offset + ENTRY_HEADER_BYTES + key.length);
    } else if (valueLength !== REMOVED && valueLength !== ELSEWHERE) {
      this.bytes.set(value as Buffer, offset + ENTRY_HEADER_BYTES + key.length);
    }
    this.head = next(offset, size, capacity);
    this.used += size;
    this.stored++;
    if (this.hasIndex) this.link(key, hash, offset);
  }

  /**
   * Drops the oldest entry (the ring must not be empty), and its index slot if it has one;
   * returns its hash.
   */
  dropOldest(): number {
    assert(this.stored > 0, 'dropOldest on an empty ring');
    const capacity = this.bytes.length;
    for (;;) {
      const offset = this.tail;
      const left = capacity - offset;
      const word = offset >> 2;
      const hash = this.words[word] as number;
      if (left < ENTRY_HEADER_BYTES || hash === LAP_END) {
        this.tail = 0;
        this.used -= left;
        continue;
      }
      const keyLength = this.words[word + 1] as number;
      const valueLength = this.words[word + 2] as number;
      const slot = this.hasIndex ? this.slotOf(hash, offset) : -1;
      if (slot >= 0) {
        if (this.onDrop !== null) {
          const keyStart = offset + ENTRY_HEADER_BYTES;
          this.onDrop(this.bytes.subarray(keyStart, keyStart + keyLength), hash,
            this.valueAt(offset));
        }
        this.unlink(slot);
      }
      if (valueLength === OUT_OF_LINE) {
        this.outOfLine.delete(this.bytes.readUInt32LE(offset + ENTRY_HEADER_BYTES + keyLength));
      }
      const size = entrySize(keyLength, valueLength);
      this.tail = next(offset, size, capacity);
      this.used -= size;
      this.stored--;
      // An empty ring starts its next entry at offset 0, so an entry of any size fits.
      if (this.stored === 0) this.head = this.tail = this.used = 0;
      return hash;
    }
  }

  /** Drops the index slot of `key`, if any: `find` no longer finds it. */
  forget(key: Buffer, hash: number): void {
    const slot = this.slotOfKey(key, hash);
    if (slot >= 0) this.unlink(slot);
  }

  /**
   * Calls `visit` for every entry, oldest first (including those a newer entry of their key
   * replaced), with views of its key and value (null for a removal).
   */
  forEach(visit: (key: Buffer, hash: number, value: Buffer | null) => void): void {
    this.walk((offset, hash, keyLength) => {
      const keyStart = offset + ENTRY_HEADER_BYTES;
      visit(this.bytes.subarray(keyStart, keyStart + keyLength), hash, this.valueAt(offset));
    });
  }

  /** Calls `visit` with the hash of every entry, oldest first (replaced ones included). */
  forEachHash(visit: (hash: number) => void): void {
    this.walk((_offset, hash) => visit(hash));
  }

  /**
   * Calls `visit` for the newest entry of each key with start <= key < end (every such
   * entry when the ring has no index), with views of its key and value (null for a
   * removal) and its hash, oldest first. Keys are filtered by their first two bytes, then
   * compared in place, before any view is made: range reads are mostly one slot (a two-byte
   * prefix) of a ring holding a second or two of writes, and a page of a hot slot's scan
   * (one hash tag) passes the prefix for every write and keeps few.
   */
  forEachInRange(start: Buffer, end: Buffer,
      visit: (key: Buffer, value: Buffer | null, hash: number) => void): void {
    const first = prefixOf(start, 0, start.length);
    const last = prefixOf(end, 0, end.length);
    const bytes = this.bytes;
    this.walk((offset, hash, keyLength) => {
      const keyStart = offset + ENTRY_HEADER_BYTES;
      const prefix = prefixOf(bytes, keyStart, keyLength);
      if (prefix < first || prefix > last) return;
      const keyEnd = keyStart + keyLength;
      if (compareAt(bytes, keyStart, keyEnd, start) < 0 ||
        compareAt(bytes, keyStart, keyEnd, end) >= 0) return;
      if (!this.hasIndex || this.slotOf(hash, offset) >= 0) {
        visit(bytes.subarray(keyStart, keyEnd), this.valueAt(offset), hash);
      }
    });
  }

  /** Calls `visit` with the offset, hash and key length of every entry, oldest first. */
  private walk(visit: (offset: number, hash: number, keyLength: number) => void): void {
    const capacity = this.bytes.length;
    let offset = this.tail;
    for (let seen = 0; seen < this.stored;) {
      const word = offset >> 2;
      const hash = this.words[word] as number;
      if (capacity - offset < ENTRY_HEADER_BYTES || hash === LAP_END) {
        offset = 0;
        continue;
      }
      const keyLength = this.words[word + 1] as number;
      visit(offset, hash, keyLength);
      offset = next(offset, entrySize(keyLength, this.words[word + 2] as number), capacity);
      seen++;
    }
  }

  private keyIs(offset: number, key: Buffer): boolean {
    const length = key.length;
    if (this.words[(offset >> 2) + 1] !== length) return false;
    const bytes = this.bytes;
    const start = offset + ENTRY_HEADER_BYTES;
    for (let index = 0; index < length; index++) {
      if (bytes[start + index] !== key[index]) return false;
    }
    return true;
  }

  /** The index slot pointing at the entry at `offset` (whose hash is `hash`), or -1. */
  private slotOf(hash: number, offset: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const offsetPlusOne = index[2 * slot + 1] as number;
      if (offsetPlusOne === 0) return -1;
      if (offsetPlusOne === offset + 1) return slot;
    }
  }

  /**
   * The index slot of `key`, or, when it has none, -1 - the free slot that ends its probe
   * run (where a new key goes).
   */
  private slotOfKey(key: Buffer, hash: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const offsetPlusOne = index[2 * slot + 1] as number;
      if (offsetPlusOne === 0) return -1 - slot;
      if (index[2 * slot] === hash && this.keyIs(offsetPlusOne - 1, key)) return slot;
    }
  }

  /** Points `key`'s slot at the entry at `offset`, taking a free slot for a new key. */
  private link(key: Buffer, hash: number, offset: number): void {
    let slot = this.slotOfKey(key, hash);
    if (slot < 0) {
      if (this.indexed + 1 > (this.mask + 1) >> 1 && this.mask + 1 < this.slotsMax) {
        this.growIndex();
        slot = this.slotOfKey(key, hash);
      }
      slot = -1 - slot;
      this.indexed++;
    }
    this.index[2 * slot] = hash;
    this.index[2 * slot + 1] = offset + 1;
  }

  /** Doubles the index, placing every slot anew (keys are distinct: no comparisons). */
  private growIndex(): void {
    const old = this.index;
    const slots = 2 * (this.mask + 1);
    const index = new Int32Array(2 * slots);
    const mask = slots - 1;
    for (let from = 0; from < old.length; from += 2) {
      const offsetPlusOne = old[from + 1] as number;
      if (offsetPlusOne === 0) continue;
      const hash = old[from] as number;
      let slot = hash & mask;
      while (index[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      index[2 * slot] = hash;
      index[2 * slot + 1] = offsetPlusOne;
    }
    this.index = index;
    this.mask = mask;
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
    this.indexed--;
  }
}

/** The offset after an entry of `size` bytes at `offset`. */
function next(offset: number, size: number, capacity: number): number {
  return offset + size === capacity ? 0 : offset + size;
}

/**
 * bytes[from, to) compared with `other`, as Buffer.compare orders them. In JavaScript: for
 * keys of a few dozen bytes, Buffer's native compare of a range cost several times more
 * in its call than in its comparison (a third of a hot slot's scan).
 */
function compareAt(bytes: Buffer, from: number, to: number, other: Buffer): number {
  const length = Math.min(to - from, other.length);
  for (let index = 0; index < length; index++) {
    const difference = (bytes[from + index] as number) - (other[index] as number);
    if (difference !== 0) return difference;
  }
  return (to - from) - other.length;
}

/** The first two bytes of bytes[start, start + length) as a number (missing bytes are 0). */
function prefixOf(bytes: Buffer, start: number, length: number): number {
  return ((length > 0 ? bytes[start] as number : 0) << 8) |
    (length > 1 ? bytes[start + 1] as number : 0);
}
