import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLocks } from '../../src/coordinator/key-locks.js';

test('operations on one key run in arrival order; other keys do not wait', () => {
  const locks = new KeyLocks<string>();
  const started: string[] = [];
  locks.acquire('first', ['a'], () => started.push('first'));
  locks.acquire('second', ['a'], () => started.push('second'));
  locks.acquire('other', ['b'], () => started.push('other'));
  assert.deepEqual(started, ['first', 'other']);
  locks.release('first');
  assert.deepEqual(started, ['first', 'other', 'second']);
  locks.release('second');
  assert.equal(locks.lockedKeys, 1);
});

test('a multi-key operation waits for every key, and repeated keys count once', () => {
  const locks = new KeyLocks<string>();
  const started: string[] = [];
  locks.acquire('onA', ['a'], () => started.push('a'));
  locks.acquire('onB', ['b'], () => started.push('b'));
  locks.acquire('both', ['a', 'b', 'a'], () => started.push('both'));
  locks.acquire('afterBoth', ['b'], () => started.push('after'));
  locks.release('onA');
  assert.deepEqual(started, ['a', 'b']);
  locks.release('onB');
  assert.deepEqual(started, ['a', 'b', 'both']);
  locks.release('both');
  assert.deepEqual(started, ['a', 'b', 'both', 'after']);
  locks.release('afterBoth');
  assert.equal(locks.lockedKeys, 0);
});

test('an operation that replies inside start can release its own lock', () => {
  const locks = new KeyLocks<string>();
  const started: string[] = [];
  // Replicas known down: the operation fails at once, before acquire returns.
  locks.acquire('fails', ['a'], () => {
    started.push('fails at once');
    locks.release('fails');
  });
  assert.equal(locks.operations, 0);
  locks.acquire('next', ['a'], () => started.push('next'));
  assert.deepEqual(started, ['fails at once', 'next']);
  assert.equal(locks.operations, 1);
  locks.release('next');
  assert.equal(locks.lockedKeys, 0);
});
