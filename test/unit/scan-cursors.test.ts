/**
 * SCAN cursors: `slot + 16384 * token`. A cursor whose token is unknown (evicted, from
 * another node, or made up) restarts its slot, which may repeat keys but never skips one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanCursors } from '../../src/coordinator/scan-cursors.js';

const SLOTS = 16384;
const TOKENS_MAX = 4096;

test('cursor 0 and slot-only cursors start at the beginning of a slot', () => {
  const cursors = new ScanCursors();
  assert.deepEqual(cursors.resolve(0), { slot: 0, after: null });
  assert.deepEqual(cursors.resolve(16383), { slot: 16383, after: null });
  assert.equal(cursors.issue(42, null), 42, 'no position to save: the slot is the cursor');
});

test('issue then resolve returns the saved position', () => {
  const cursors = new ScanCursors();
  const key = Buffer.from('user:1000');
  const cursor = cursors.issue(12182, key);
  assert.equal(cursor % SLOTS, 12182);
  assert.ok(cursor >= SLOTS, 'a token is encoded');
  assert.ok(Number.isSafeInteger(cursor));
  const position = cursors.resolve(cursor);
  assert.equal(position.slot, 12182);
  assert.ok(position.after?.equals(key));
  assert.deepEqual(cursors.resolve(cursor), position, 'resolving does not consume');
  const slotZero = cursors.issue(0, key);
  assert.notEqual(slotZero, 0, 'a position in slot 0 never reads as the final cursor 0');
  assert.deepEqual(cursors.resolve(slotZero).slot, 0);
});

test('tokens are distinct for every issued cursor', () => {
  const cursors = new ScanCursors();
  const issued = new Set<number>();
  for (let index = 0; index < 1000; index++) {
    issued.add(cursors.issue(index % 7, Buffer.from(`k${index}`)));
  }
  assert.equal(issued.size, 1000);
});

test('eviction: the oldest position goes first; its cursor restarts the slot', () => {
  const cursors = new ScanCursors();
  const first = cursors.issue(7, Buffer.from('first'));
  const second = cursors.issue(8, Buffer.from('second'));
  for (let index = 2; index < TOKENS_MAX; index++) cursors.issue(1, Buffer.from(`k${index}`));
  assert.equal(cursors.resolve(first).after?.toString(), 'first', 'at the limit: kept');
  cursors.issue(1, Buffer.from('one more'));
  assert.deepEqual(cursors.resolve(first), { slot: 7, after: null }, 'limit + 1: evicted');
  assert.equal(cursors.resolve(second).after?.toString(), 'second');
  cursors.issue(1, Buffer.from('and another'));
  assert.deepEqual(cursors.resolve(second), { slot: 8, after: null });
});

test('unknown tokens (another node, made up, huge) restart their slot', () => {
  const cursors = new ScanCursors();
  assert.deepEqual(cursors.resolve(SLOTS * 99 + 5), { slot: 5, after: null });
  assert.deepEqual(cursors.resolve(2 ** 50 - 1), { slot: 16383, after: null });
  assert.deepEqual(cursors.resolve(Number.MAX_SAFE_INTEGER),
    { slot: Number.MAX_SAFE_INTEGER % SLOTS, after: null });
});
