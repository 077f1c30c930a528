/** The JavaScript CRC-32 equals zlib's for every length and offset, on both sides of the switch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32 } from '../../src/util/crc32.js';

test('equals zlib crc32 for any bytes and range', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1200 }), fc.nat(), fc.nat(),
    (bytes, a, b) => {
      const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
      const end = start + (bytes.length - start === 0 ? 0 : b % (bytes.length - start + 1));
      assert.equal(crc32(bytes, start, end), zlibCrc32(bytes.subarray(start, end)));
    }), { numRuns: 500 });
});

test('known values: empty, "123456789", and a whole buffer by default', () => {
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  const long = Buffer.alloc(5000, 0xa5);
  assert.equal(crc32(long), zlibCrc32(long));
});
