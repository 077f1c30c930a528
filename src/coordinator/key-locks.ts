/**
 * Per-key ordering of distributed operations on one coordinator. Operations on the same key
 * run one after another, in arrival order: pipelined INCRs on one connection must each read
 * the previous one's result, and a read after a write (same connection) must see it. An
 * operation on several keys waits until it is first in line for every one of them.
 * Operations on different keys still run concurrently. Pure.
 */
import { assert } from '../util/assert.js';

export interface KeyLock {
  readonly ids: readonly string[];
  /** Keys on which another operation is still ahead of this one. */
  blockedOn: number;
  /** Runs the operation; gets its own lock (it may run before `acquire` returns). */
  readonly start: (lock: KeyLock) => void;
}

export class KeyLocks {
  private readonly queues = new Map<string, KeyLock[]>();

  private held = 0;

  get lockedKeys(): number {
    return this.queues.size;
  }

  /** Operations running or waiting in line (the coordinator bounds them). */
  get operations(): number {
    return this.held;
  }

  /** Queues an operation on `ids`; `start` runs now if no earlier one holds any of them. */
  acquire(ids: readonly string[], start: (lock: KeyLock) => void): KeyLock {
    const unique = [...new Set(ids)];
    const lock: KeyLock = { ids: unique, blockedOn: 0, start };
    this.held++;
    for (const id of unique) {
      const queue = this.queues.get(id);
      if (queue === undefined) {
        this.queues.set(id, [lock]);
      } else {
        queue.push(lock);
        lock.blockedOn++;
      }
    }
    if (lock.blockedOn === 0) start(lock);
    return lock;
  }

  /** The operation replied: the next one in line on each of its keys may go. */
  release(lock: KeyLock): void {
    this.held--;
    const ready: KeyLock[] = [];
    for (const id of lock.ids) {
      const queue = this.queues.get(id);
      assert(queue !== undefined && queue[0] === lock, 'released lock is first in line');
      queue.shift();
      const next = queue[0];
      if (next === undefined) {
        this.queues.delete(id);
      } else {
        next.blockedOn--;
        if (next.blockedOn === 0) ready.push(next);
      }
    }
    for (const next of ready) next.start(next);
  }
}
