import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyLocks, type LockHolder } from '../../src/coordinator/key-locks.js';

/** An operation for these tests: the key lock the locks keep on it, and what starts it. */
interface TestHolder extends LockHolder {
  start: () => void;
}

function holder(): TestHolder {
  return { keyLock: null, start: () => undefined };
}

function newLocks(): KeyLocks<TestHolder> {
  return new KeyLocks<TestHolder>(4, (owner) => owner.start());
}

/** Key ids in these tests name their slot by their first letter: a... -> 0, b... -> 1. */
function slotsOf(ids: string[]): number[] {
  return ids.map((id) => id.charCodeAt(0) - 97);
}

function acquire(locks: KeyLocks<TestHolder>, owner: TestHolder, ids: string[],
    start: () => void): void {
  owner.start = start;
  locks.acquire(owner, slotsOf(ids), ids);
}

test('operations on one key run in arrival order; other keys do not wait', () => {
  const locks = newLocks();
  const started: string[] = [];
  const [first, second, other] = [holder(), holder(), holder()];
  acquire(locks, first, ['a'], () => started.push('first'));
  acquire(locks, second, ['a'], () => started.push('second'));
  acquire(locks, other, ['b'], () => started.push('other'));
  assert.deepEqual(started, ['first', 'other']);
  assert.equal(locks.lockedKeys, 2);
  locks.release(first);
  assert.deepEqual(started, ['first', 'other', 'second']);
  locks.release(second);
  assert.equal(locks.lockedKeys, 1);
  assert.equal(second.keyLock, null);
});

test('keys of the same slot do not wait for each other', () => {
  const locks = newLocks();
  const started: string[] = [];
  const [onA, onAlso, onAAgain] = [holder(), holder(), holder()];
  acquire(locks, onA, ['a1'], () => started.push('a1'));
  acquire(locks, onAlso, ['a2'], () => started.push('a2'));
  acquire(locks, onAAgain, ['a1'], () => started.push('a1 again'));
  assert.deepEqual(started, ['a1', 'a2']);
  locks.release(onAlso);
  assert.deepEqual(started, ['a1', 'a2']);
  locks.release(onA);
  assert.deepEqual(started, ['a1', 'a2', 'a1 again']);
  locks.release(onAAgain);
  assert.equal(locks.lockedKeys, 0);
  assert.equal(locks.operations, 0);
});

test('a multi-key operation waits for every key, and repeated keys count once', () => {
  const locks = newLocks();
  const started: string[] = [];
  const [onA, onB, both, afterBoth] = [holder(), holder(), holder(), holder()];
  acquire(locks, onA, ['a'], () => started.push('a'));
  acquire(locks, onB, ['b'], () => started.push('b'));
  acquire(locks, both, ['a', 'b', 'a'], () => started.push('both'));
  acquire(locks, afterBoth, ['b'], () => started.push('after'));
  locks.release(onA);
  assert.deepEqual(started, ['a', 'b']);
  locks.release(onB);
  assert.deepEqual(started, ['a', 'b', 'both']);
  locks.release(both);
  assert.deepEqual(started, ['a', 'b', 'both', 'after']);
  locks.release(afterBoth);
  assert.equal(locks.lockedKeys, 0);
});

test('many repeated keys in one operation count once each', () => {
  const locks = newLocks();
  const ids = Array.from({ length: 40 }, (_, index) => `a${index % 20}`);
  const started: string[] = [];
  const [many, later] = [holder(), holder()];
  acquire(locks, many, ids, () => started.push('many'));
  assert.equal(locks.lockedKeys, 20);
  acquire(locks, later, ['a19'], () => started.push('later'));
  locks.release(many);
  assert.deepEqual(started, ['many', 'later']);
});

test('an operation that replies inside start can release its own lock', () => {
  const locks = newLocks();
  const started: string[] = [];
  const [fails, next] = [holder(), holder()];
  // Replicas known down: the operation fails at once, before acquire returns.
  acquire(locks, fails, ['a'], () => {
    started.push('fails at once');
    locks.release(fails);
  });
  assert.equal(locks.operations, 0);
  acquire(locks, next, ['a'], () => started.push('next'));
  assert.deepEqual(started, ['fails at once', 'next']);
  assert.equal(locks.operations, 1);
  locks.release(next);
  assert.equal(locks.lockedKeys, 0);
});
