/**
 * MurmurHash3 (x86, 32-bit): fast, well distributed, deterministic on every
 * node and platform; ring tokens and anti-entropy digests use it. Pure. Golden values are
 * pinned by tests (tokens decide where data lives: it must never change silently).
 */
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** The hash of bytes[0, length) (all of them by default). */
export function murmur3(bytes: Uint8Array, seed = 0, length = bytes.length): number {
  let hash = seed >>> 0;
  const blocks = length & ~3;
  for (let index = 0; index < blocks; index += 4) {
    let k = (bytes[index] as number) | ((bytes[index + 1] as number) << 8) |
      ((bytes[index + 2] as number) << 16) | ((bytes[index + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    hash ^= k;
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest > 0) {
    let tail = 0;
    if (rest === 3) tail ^= (bytes[blocks + 2] as number) << 16;
    if (rest >= 2) tail ^= (bytes[blocks + 1] as number) << 8;
    tail ^= bytes[blocks] as number;
    tail = Math.imul(tail, C1);
    tail = (tail << 15) | (tail >>> 17);
    tail = Math.imul(tail, C2);
    hash ^= tail;
  }
  return finish(hash, length);
}

/**
 * murmur3(bytes, seedHigh, length) and murmur3(bytes, seedLow, length) in one pass, into
 * out[0] and out[1]: the blocks are read and mixed once for both (a record's 64-bit digest).
 */
export function murmur3Pair(bytes: Uint8Array, seedHigh: number, seedLow: number,
    length: number, out: Uint32Array): void {
  let high = seedHigh >>> 0;
  let low = seedLow >>> 0;
  const blocks = length & ~3;
  for (let index = 0; index < blocks; index += 4) {
    let k = (bytes[index] as number) | ((bytes[index + 1] as number) << 8) |
      ((bytes[index + 2] as number) << 16) | ((bytes[index + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    high ^= k;
    high = (high << 13) | (high >>> 19);
    high = (Math.imul(high, 5) + 0xe6546b64) | 0;
    low ^= k;
    low = (low << 13) | (low >>> 19);
    low = (Math.imul(low, 5) + 0xe6546b64) | 0;
  }
  const rest = length & 3;
  if (rest > 0) {
    let tail = 0;
    if (rest === 3) tail ^= (bytes[blocks + 2] as number) << 16;
    if (rest >= 2) tail ^= (bytes[blocks + 1] as number) << 8;
    tail ^= bytes[blocks] as number;
    tail = Math.imul(tail, C1);
    tail = (tail << 15) | (tail >>> 17);
    tail = Math.imul(tail, C2);
    high ^= tail;
    low ^= tail;
  }
  out[0] = finish(high, length);
  out[1] = finish(low, length);
}

function finish(state: number, length: number): number {
  let hash = state ^ length;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
