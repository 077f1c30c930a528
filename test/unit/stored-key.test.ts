/**
 * Stored (LMDB) key layout: [slot u16][db u8][user key], digest form for long keys, and the
 * range helpers scans rely on. Orders are byte orders, as LMDB compares keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { STORED_KEY_INLINE_BYTES_MAX } from '../../src/config/limits.js';
import {
  dbOf,
  isDigestForm,
  isLongKey,
  slotDbEnd,
  slotDbStart,
  slotOf,
  slotStart,
  STORED_KEY_PREFIX_BYTES,
  storedKey,
  userKeyOf,
} from '../../src/storage/stored-key.js';

/** LMDB's default maximum key size. */
const LMDB_KEY_BYTES_MAX = 1978;

test('layout: slot big-endian, then db, then the key bytes', () => {
  assert.equal(storedKey(0x1234, 7, Buffer.from('foo')).toString('hex'), '123407666f6f');
  assert.equal(storedKey(0, 0, Buffer.alloc(0)).toString('hex'), '000000');
  assert.equal(storedKey(16383, 15, Buffer.from([0xff])).toString('hex'), '3fff0fff');
  const stored = storedKey(12182, 3, Buffer.from('foo'));
  assert.equal(slotOf(stored), 12182);
  assert.equal(dbOf(stored), 3);
  assert.equal(userKeyOf(stored).toString(), 'foo');
  assert.equal(isDigestForm(stored), false);
  assert.equal(STORED_KEY_PREFIX_BYTES, 3);
});

interface LengthCase {
  length: number;
  long: boolean;
}

const LENGTHS: LengthCase[] = [
  { length: 0, long: false },
  { length: 1, long: false },
  { length: STORED_KEY_INLINE_BYTES_MAX - 1, long: false },
  { length: STORED_KEY_INLINE_BYTES_MAX, long: false },
  { length: STORED_KEY_INLINE_BYTES_MAX + 1, long: true },
  { length: 4096, long: true },
  { length: 1024 * 1024, long: true },
];

for (const { length, long } of LENGTHS) {
  test(`key of ${length} bytes is ${long ? 'digest' : 'inline'} form`, () => {
    const key = Buffer.alloc(length, 'k');
    const stored = storedKey(5, 1, key);
    assert.equal(isLongKey(key), long);
    assert.equal(isDigestForm(stored), long);
    assert.ok(stored.length <= LMDB_KEY_BYTES_MAX, 'fits LMDB');
    if (long) {
      assert.equal(stored.length, STORED_KEY_PREFIX_BYTES + STORED_KEY_INLINE_BYTES_MAX + 1,
        'fixed length, one byte longer than the longest inline key');
    } else {
      assert.ok(userKeyOf(stored).equals(key));
    }
  });
}

test('digest form: key prefix then SHA-256 of the whole key', () => {
  const key = Buffer.alloc(5000);
  for (let index = 0; index < key.length; index++) key[index] = index & 0xff;
  const stored = storedKey(9, 2, key);
  const userPart = stored.subarray(STORED_KEY_PREFIX_BYTES);
  const digest = createHash('sha256').update(key).digest();
  assert.ok(userPart.subarray(userPart.length - 32).equals(digest));
  assert.ok(userPart.subarray(0, userPart.length - 32).equals(key.subarray(0,
    userPart.length - 32)), 'readable prefix of the key');
});

test('digest form: keys sharing a long prefix differ, and the same key is stable', () => {
  const a = Buffer.concat([Buffer.alloc(3000, 'p'), Buffer.from('a')]);
  const b = Buffer.concat([Buffer.alloc(3000, 'p'), Buffer.from('b')]);
  assert.ok(!storedKey(1, 0, a).equals(storedKey(1, 0, b)));
  assert.ok(storedKey(1, 0, a).equals(storedKey(1, 0, Buffer.from(a))));
});

test('property: inline and digest forms never collide', () => {
  // Digest-form stored keys all have one length that no inline key can have.
  const inlineKey = fc.uint8Array({ maxLength: STORED_KEY_INLINE_BYTES_MAX });
  const longKey = fc.integer({ min: STORED_KEY_INLINE_BYTES_MAX + 1, max: 5000 })
    .chain((length) => fc.uint8Array({ minLength: length, maxLength: length }));
  fc.assert(fc.property(inlineKey, longKey, fc.nat({ max: 16383 }), fc.nat({ max: 15 }),
    (short, long, slot, db) => {
      const inline = storedKey(slot, db, Buffer.from(short));
      const digest = storedKey(slot, db, Buffer.from(long));
      assert.notEqual(inline.length, digest.length);
      assert.ok(!isDigestForm(inline));
      assert.ok(isDigestForm(digest));
    }), { numRuns: 200 });
});

test('property: every key of (slot, db) lies in [slotDbStart, slotDbEnd)', () => {
  const key = fc.oneof(fc.uint8Array({ maxLength: 40 }),
    fc.constant(new Uint8Array(STORED_KEY_INLINE_BYTES_MAX + 10).fill(0xff)),
    fc.constant(new Uint8Array(STORED_KEY_INLINE_BYTES_MAX).fill(0xff)));
  const slot = fc.oneof(fc.constantFrom(0, 1, 255, 256, 16383), fc.nat({ max: 16383 }));
  const db = fc.oneof(fc.constantFrom(0, 15, 254, 255), fc.nat({ max: 255 }));
  fc.assert(fc.property(key, slot, db, (bytes, slotNumber, dbNumber) => {
    const stored = storedKey(slotNumber, dbNumber, Buffer.from(bytes));
    assert.ok(Buffer.compare(slotDbStart(slotNumber, dbNumber), stored) <= 0);
    assert.ok(Buffer.compare(stored, slotDbEnd(slotNumber, dbNumber)) < 0);
    assert.ok(Buffer.compare(slotStart(slotNumber), stored) <= 0);
    if (slotNumber < 16383) assert.ok(Buffer.compare(stored, slotStart(slotNumber + 1)) < 0);
  }), { numRuns: 2000 });
});

test('ranges: slots and dbs order as numbers, and ranges tile without gaps', () => {
  for (const slot of [0, 1, 255, 256, 8191, 16382]) {
    assert.ok(Buffer.compare(slotStart(slot), slotStart(slot + 1)) < 0);
    assert.ok(slotDbStart(slot, 0).subarray(0, 2).equals(slotStart(slot)));
    for (const db of [0, 1, 14, 15, 254]) {
      assert.ok(slotDbEnd(slot, db).equals(slotDbStart(slot, db + 1)), 'adjacent dbs touch');
    }
    assert.ok(slotDbEnd(slot, 255).equals(slotStart(slot + 1)), 'db 255 ends at the next slot');
  }
  assert.ok(slotDbEnd(16383, 255).equals(slotStart(16384)));
  assert.ok(Buffer.compare(storedKey(16383, 255, Buffer.alloc(1900, 0xff)),
    slotStart(16384)) < 0);
});
