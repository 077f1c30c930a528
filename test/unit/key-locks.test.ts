import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLocks } from '../../src/coordinator/key-locks.js';

test('operations on one key run in arrival order; other keys do not wait', () => {
  const locks = new KeyLocks();
  const started: string[] = [];
  const first = locks.acquire(['a'], () => started.push('first'));
  const second = locks.acquire(['a'], () => started.push('second'));
  locks.acquire(['b'], () => started.push('other'));
  assert.deepEqual(started, ['first', 'other']);
  locks.release(first);
  assert.deepEqual(started, ['first', 'other', 'second']);
  locks.release(second);
  assert.equal(locks.lockedKeys, 1);
});

test('a multi-key operation waits for every key, and repeated keys count once', () => {
  const locks = new KeyLocks();
  const started: string[] = [];
  const onA = locks.acquire(['a'], () => started.push('a'));
  const onB = locks.acquire(['b'], () => started.push('b'));
  const both = locks.acquire(['a', 'b', 'a'], () => started.push('both'));
  const afterBoth = locks.acquire(['b'], () => started.push('after'));
  locks.release(onA);
  assert.deepEqual(started, ['a', 'b']);
  locks.release(onB);
  assert.deepEqual(started, ['a', 'b', 'both']);
  locks.release(both);
  assert.deepEqual(started, ['a', 'b', 'both', 'after']);
  locks.release(afterBoth);
  assert.equal(locks.lockedKeys, 0);
});

test('an operation that replies inside start can release its own lock', () => {
  const locks = new KeyLocks();
  const started: string[] = [];
  // Replicas known down: the operation fails at once, before acquire returns.
  locks.acquire(['a'], (lock) => {
    started.push('fails at once');
    locks.release(lock);
  });
  assert.equal(locks.operations, 0);
  const next = locks.acquire(['a'], () => started.push('next'));
  assert.deepEqual(started, ['fails at once', 'next']);
  assert.equal(locks.operations, 1);
  locks.release(next);
  assert.equal(locks.lockedKeys, 0);
});
