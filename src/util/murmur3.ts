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
  for (let index = 0; index < blocks; index += 4) hash = mixBlock(hash, block(bytes, index));
  if ((length & 3) > 0) hash ^= tail(bytes, blocks, length & 3);
  return finish(hash, length);
}

/**
 * murmur3(bytes, seedHigh, length) and murmur3(bytes, seedLow, length) in one pass, into
 * out[0] and out[1]: the blocks are read and scrambled once for both (a record's 64-bit
 * digest).
 */
export function murmur3Pair(bytes: Uint8Array, seedHigh: number, seedLow: number,
    length: number, out: Uint32Array): void {
  let high = seedHigh >>> 0;
  let low = seedLow >>> 0;
  const blocks = length & ~3;
  for (let index = 0; index < blocks; index += 4) {
    const k = block(bytes, index);
    high = mixBlock(high, k);
    low = mixBlock(low, k);
  }
  if ((length & 3) > 0) {
    const k = tail(bytes, blocks, length & 3);
    high ^= k;
    low ^= k;
  }
  out[0] = finish(high, length);
  out[1] = finish(low, length);
}

/** The scrambled little-endian word at bytes[index, index + 4). */
function block(bytes: Uint8Array, index: number): number {
  const k = (bytes[index] as number) | ((bytes[index + 1] as number) << 8) |
    ((bytes[index + 2] as number) << 16) | ((bytes[index + 3] as number) << 24);
  return scramble(k);
}

/** The scrambled last 1-3 bytes, from bytes[blocks]. */
function tail(bytes: Uint8Array, blocks: number, rest: number): number {
  let k = 0;
  if (rest === 3) k ^= (bytes[blocks + 2] as number) << 16;
  if (rest >= 2) k ^= (bytes[blocks + 1] as number) << 8;
  k ^= bytes[blocks] as number;
  return scramble(k);
}

function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixBlock(hash: number, k: number): number {
  hash ^= k;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
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
