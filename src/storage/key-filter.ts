/**
 * A Bloom filter over the keys a table may hold, so a read of a key the table has never
 * had (the first SET of a new key reads the old record; so does a replica's PEER.PUT, and
 * a GET of a missing key) can answer "absent" without an LMDB B-tree descent, which costs
 * about 0.5 us for a missing key and more under load: in a 3-node cluster taking new keys,
 * LMDB lookups of absent keys were 5 % of the machine's CPU (bench/RESULTS.md).
 *
 * Blocked: the bits of a key lie in one 64-byte block (one cache line), so a lookup costs
 * at most one cache miss. The key's 30-bit overlay hash (lmdb-engine.ts `overlayHash`)
 * picks the block with its low bits and, mixed, the three bits within it. Bits are only
 * ever set, so a removed key stays "maybe present" (a false positive costs the LMDB read
 * done without a filter); never the reverse. Pure: no I/O.
 */

import { assert } from '../util/assert.js';

const BLOCK_WORDS = 16;
const BLOCK_BITS = BLOCK_WORDS * 32;
/** Bits set per key, each picked by POSITION_BITS bits of the mixed hash (log2 BLOCK_BITS). */
const PROBES = 3;
const POSITION_BITS = 9;
/** Bits per key the filter is sized for; at half of it, it asks to be rebuilt larger. */
export const FILTER_BITS_PER_KEY = 16;
/**
 * 1 MiB, for 512k keys. Every rebuild scans all of LMDB's keys: with 128 KiB at least, a
 * node filling from empty rebuilt at 131k and 262k keys, and those scans were 2.5 % of the
 * main threads' CPU in a profile of a fresh 3-node cluster under redis-benchmark --cluster
 * SET. The megabyte is allocated zeroed and touched as keys arrive.
 */
export const FILTER_BITS_MIN = 1 << 23;
/** 32 MiB: past about 16 million keys the false positive rate rises instead. */
export const FILTER_BITS_MAX = 1 << 28;

export class KeyFilter {
  private readonly words: Uint32Array;
  private readonly blockMask: number;
  /**
   * Keys added, counting only those that set a bit (so an overwrite of a key does not
   * count again): it sizes the rebuild, and must follow keys, not writes.
   */
  added = 0;

  /**
   * A filter for about `keys` keys (16 bits each, a power of two, within bounds); `bitsMin`
   * (a power of two) is for tests that need rebuilds without millions of keys.
   */
  constructor(keys: number, bitsMin = FILTER_BITS_MIN) {
    assert(bitsMin >= BLOCK_BITS && (bitsMin & (bitsMin - 1)) === 0 && bitsMin <= FILTER_BITS_MAX,
      'key filter minimum is a power of two of whole blocks');
    let bits = bitsMin;
    while (bits < keys * FILTER_BITS_PER_KEY && bits < FILTER_BITS_MAX) bits *= 2;
    this.words = new Uint32Array(bits / 32);
    this.blockMask = bits / BLOCK_BITS - 1;
  }

  /** Bits of the filter. */
  get bits(): number {
    return this.words.length * 32;
  }

  /** True once so many keys were added that a filter twice as large would be worth it. */
  get crowded(): boolean {
    return this.bits < FILTER_BITS_MAX && this.added * FILTER_BITS_PER_KEY > 2 * this.bits;
  }

  add(hash: number): void {
    if (!this.probe(hash, true)) this.added++;
  }

  /** False only for a key never added. */
  mayContain(hash: number): boolean {
    return this.probe(hash, false);
  }

  /** Whether the key's three bits were all set; with `set`, sets them too. */
  private probe(hash: number, set: boolean): boolean {
    const words = this.words;
    const base = (hash & this.blockMask) * BLOCK_WORDS;
    const mixed = mix(hash);
    let present = true;
    for (let probe = 0; probe < PROBES; probe++) {
      const bit = (mixed >>> (probe * POSITION_BITS)) & (BLOCK_BITS - 1);
      const index = base + (bit >>> 5);
      const mask = 1 << (bit & 31);
      const word = words[index] as number;
      if ((word & mask) === 0) {
        if (!set) return false;
        present = false;
        words[index] = word | mask;
      }
    }
    return present;
  }
}

/** murmur3's finalizer: every bit of the hash moves the bit positions. */
function mix(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
