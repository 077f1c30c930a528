/**
 * Per-key ordering of distributed operations on one coordinator. Operations on the same key
 * run one after another, in arrival order: pipelined INCRs on one connection must each read
 * the previous one's result, and a read after a write (same connection) must see it. An
 * operation on several keys waits until it is first in line for every one of them.
 * Operations on different keys still run concurrently. Pure.
 *
 * Locks are held by an owner (the operation): it is registered before its `start` runs, so
 * an operation that replies at once (its replicas known down) can release from inside it.
 */
import { assert } from '../util/assert.js';

interface Lock<Owner> {
  readonly owner: Owner;
  readonly ids: readonly string[];
  /** Keys on which another operation is still ahead of this one. */
  blockedOn: number;
  readonly start: () => void;
}

export class KeyLocks<Owner> {
  private readonly queues = new Map<string, Array<Lock<Owner>>>();
  private readonly held = new Map<Owner, Lock<Owner>>();

  get lockedKeys(): number {
    return this.queues.size;
  }

  /** Operations running or waiting in line (the coordinator bounds them). */
  get operations(): number {
    return this.held.size;
  }

  /** Queues `owner` on `ids`; `start` runs now if no earlier operation holds any of them. */
  acquire(owner: Owner, ids: readonly string[], start: () => void): void {
    assert(!this.held.has(owner), 'an owner holds one lock at a time');
    const unique = ids.length === 1 ? ids : [...new Set(ids)];
    const lock: Lock<Owner> = { owner, ids: unique, blockedOn: 0, start };
    this.held.set(owner, lock);
    for (const id of lock.ids) {
      const queue = this.queues.get(id);
      if (queue === undefined) {
        this.queues.set(id, [lock]);
      } else {
        queue.push(lock);
        lock.blockedOn++;
      }
    }
    if (lock.blockedOn === 0) start();
  }

  /** The owner's operation replied: the next one in line on each of its keys may go. */
  release(owner: Owner): void {
    const lock = this.held.get(owner);
    if (lock === undefined) return;
    this.held.delete(owner);
    const ready: Array<Lock<Owner>> = [];
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
    for (const next of ready) next.start();
  }
}
