/**
 * MurmurHash3 x86 32-bit. Ring tokens are murmur3 of "<node id>:<index>", so this function
 * decides where data lives: the published reference vectors below pin it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { murmur3 } from '../../src/cluster/hash.js';
import { murmur3Pair } from '../../src/util/murmur3.js';

const VECTORS: Array<[string, number, number]> = [
  ['', 0, 0],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  ['\0\0\0\0', 0, 0x2362f9de],
  ['a', 0x9747b28c, 0x7fa09ea6],
  ['ab', 0x9747b28c, 0x74875592],
  ['abc', 0x9747b28c, 0xc84a62dd],
  ['abcd', 0x9747b28c, 0xf0478627],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['Hello, world!', 0, 0xc0363e43],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
];

test('murmur3 matches the reference vectors (every tail length, seeds, UTF-8)', () => {
  for (const [text, seed, expected] of VECTORS) {
    assert.equal(murmur3(Buffer.from(text), seed), expected, `${JSON.stringify(text)} ${seed}`);
  }
});

test('murmur3: default seed 0, any Uint8Array, always an unsigned 32-bit integer', () => {
  assert.equal(murmur3(Buffer.from('abc')), murmur3(Buffer.from('abc'), 0));
  assert.equal(murmur3(new Uint8Array([0x61, 0x62, 0x63]), 0x9747b28c), 0xc84a62dd);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (bytes, seed) => {
    const hash = murmur3(bytes, seed);
    assert.ok(Number.isInteger(hash) && hash >= 0 && hash <= 0xffffffff);
    assert.equal(murmur3(Buffer.from(bytes), seed), hash);
  }), { seed: 7 });
});

test('murmur3Pair gives the two murmur3 hashes of the same bytes, length and seeds', () => {
  const out = new Uint32Array(2);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), fc.integer(),
    fc.integer(), (bytes, cut, seedHigh, seedLow) => {
      const length = cut % (bytes.length + 1);
      murmur3Pair(bytes, seedHigh, seedLow, length, out);
      assert.equal(out[0], murmur3(bytes, seedHigh, length));
      assert.equal(out[1], murmur3(bytes, seedLow, length));
    }));
});
