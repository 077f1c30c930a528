import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keySlot, SLOT_COUNT } from '../../src/cluster/key-slot.js';

// Values Redis Cluster computes (CLUSTER KEYSLOT on a real cluster, and the cluster spec).
test('key slots match Redis Cluster', () => {
  assert.equal(keySlot(Buffer.from('foo')), 12182);
  assert.equal(keySlot(Buffer.from('bar')), 5061);
  assert.equal(keySlot(Buffer.from('123456789')), 12739);
  assert.equal(keySlot(Buffer.from('')), 0);
});

test('hash tags: the first non-empty {tag} decides', () => {
  const tagged = keySlot(Buffer.from('{user1000}.following'));
  assert.equal(keySlot(Buffer.from('{user1000}.followers')), tagged);
  assert.equal(keySlot(Buffer.from('user1000')), tagged);
  assert.equal(keySlot(Buffer.from('foo{}{bar}')), keySlot(Buffer.from('foo{}{bar}')));
  assert.notEqual(keySlot(Buffer.from('foo{}{bar}')), keySlot(Buffer.from('bar')));
  assert.equal(keySlot(Buffer.from('foo{{bar}}zap')), keySlot(Buffer.from('{bar')));
  assert.equal(keySlot(Buffer.from('foo{bar}{zap}')), keySlot(Buffer.from('bar')));
});

test('more slots Redis Cluster reports (CLUSTER KEYSLOT)', () => {
  assert.equal(keySlot(Buffer.from('hello')), 866);
  assert.equal(keySlot(Buffer.from('somekey')), 11058);
  assert.equal(keySlot(Buffer.from('key')), 12539);
});

test('hash tags: only the first { counts; empty or unclosed tags hash the whole key', () => {
  const whole = (text: string): number => referenceSlot(Buffer.from(text), false);
  const cases: Array<[string, string | null]> = [
    ['{a}', 'a'],
    ['x{a}y', 'a'],
    ['{a}{b}', 'a'],
    ['{}', null],
    ['{}a', null],
    ['a{', null],
    ['a}b{', null],
    ['}{a}', 'a'],
    ['{{a}}', '{a'],
    ['{a{b}c}', 'a{b'],
  ];
  for (const [key, tag] of cases) {
    const expected = tag === null ? whole(key) : whole(tag);
    assert.equal(keySlot(Buffer.from(key)), expected, key);
  }
});

/**
 * The Redis Cluster specification, written independently: bitwise CRC16-XMODEM (polynomial
 * 0x1021, initial 0) of the key, or of what lies between the first '{' and the first '}'
 * after it when that is not empty; modulo 16384.
 */
function referenceSlot(key: Buffer, honourTags = true): number {
  let hashed = key;
  const open = key.indexOf(0x7b);
  if (honourTags && open !== -1) {
    const close = key.indexOf(0x7d, open + 1);
    if (close > open + 1) hashed = key.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of hashed) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc % 16384;
}

test('any key, binary or with braces, gets the slot the specification gives', () => {
  const bytes = fc.uint8Array({ maxLength: 40 });
  const braced = fc.array(fc.constantFrom('{', '}', 'a', 'b', '', 'user:'), { maxLength: 8 })
    .map((parts) => Buffer.from(parts.join('')));
  fc.assert(fc.property(fc.oneof(bytes.map((array) => Buffer.from(array)), braced), (key) => {
    const slot = keySlot(key);
    assert.ok(Number.isInteger(slot) && slot >= 0 && slot < SLOT_COUNT);
    assert.equal(slot, referenceSlot(key));
  }), { seed: 16384, numRuns: 500 });
});
