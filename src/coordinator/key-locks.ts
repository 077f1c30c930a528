/**
 * Per-key ordering of distributed operations on one coordinator. Operations on the same key
 * run one after another, in arrival order: pipelined INCRs on one connection must each read
 * the previous one's result, and a read after a write (same connection) must see it. An
 * operation on several keys waits until it is first in line for every one of them.
 * Operations on different keys still run concurrently. Pure.
 *
 * The lock is kept on its holder (the operation), and the lines per key live in one bucket
 * per hash slot, a fixed array: no Map or Set whose size follows the operations in flight.
 * V8 replaces a Map's table when it grows or shrinks and links the old table to the new
 * one (for iterators still open). Once one replaced table sat in old space, it kept every
 * later table alive, and through them every operation ever queued, until the next full GC:
 * under cluster load 2-6 MB survived each scavenge and the scavenges took 10-30 ms, which
 * was most of the cluster's p99 (bench/RESULTS.md).
 *
 * The lock is set on its holder before the holder is started (the `onAcquired` given to
 * KeyLocks, called with the holder: no closure per operation), so an operation that replies
 * at once (its replicas known down) can release from inside it.
 */
import { assert } from '../util/assert.js';

export class KeyLock {
  /** Keys on which another operation is still ahead of this one. */
  blockedOn = 0;
  constructor(
    readonly slots: readonly number[],
    readonly ids: readonly string[],
    readonly holder: LockHolder,
  ) {}
}

/** What holds a lock: the operation, which keeps it until it replies. */
export interface LockHolder {
  keyLock: KeyLock | null;
}

/** The lines of one slot's keys: lock and key id per entry, in arrival order. */
interface Bucket {
  readonly locks: KeyLock[];
  readonly ids: string[];
}

/** Past this many keys, repeated keys are found with a Set rather than by scanning. */
const SCAN_UNIQUE_MAX = 16;

export class KeyLocks<Holder extends LockHolder> {
  private readonly buckets: Array<Bucket | undefined>;
  private held = 0;
  private locked = 0;

  /** @param onAcquired starts a holder once no earlier operation holds any of its keys */
  constructor(slotCount: number, private readonly onAcquired: (holder: Holder) => void) {
    this.buckets = new Array<Bucket | undefined>(slotCount).fill(undefined);
  }

  /** Distinct keys some operation holds or waits for. */
  get lockedKeys(): number {
    return this.locked;
  }

  /** Operations running or waiting in line (the coordinator bounds them). */
  get operations(): number {
    return this.held;
  }

  /**
   * Queues `holder` on the keys `ids` (of hash slots `slots`, index for index); it starts
   * (`onAcquired`) now if no earlier operation holds any of them, else when the last one
   * releases.
   */
  acquire(holder: Holder, slots: readonly number[], ids: readonly string[]): void {
    assert(holder.keyLock === null, 'a holder holds one lock at a time');
    assert(slots.length === ids.length, 'one slot per key');
    const lock = ids.length === 1 ? new KeyLock(slots, ids, holder)
      : uniqueLock(slots, ids, holder);
    holder.keyLock = lock;
    this.held++;
    for (let index = 0; index < lock.ids.length; index++) {
      const slot = lock.slots[index] as number;
      const id = lock.ids[index] as string;
      let bucket = this.buckets[slot];
      if (bucket === undefined) {
        bucket = { locks: [], ids: [] };
        this.buckets[slot] = bucket;
      }
      if (bucket.ids.indexOf(id) === -1) this.locked++;
      else lock.blockedOn++;
      bucket.locks.push(lock);
      bucket.ids.push(id);
    }
    if (lock.blockedOn === 0) this.onAcquired(holder);
  }

  /** The holder's operation replied: the next one in line on each of its keys may go. */
  release(holder: Holder): void {
    const lock = holder.keyLock;
    if (lock === null) return;
    holder.keyLock = null;
    this.held--;
    let ready: KeyLock[] | null = null;
    for (let index = 0; index < lock.ids.length; index++) {
      const bucket = this.buckets[lock.slots[index] as number] as Bucket;
      const id = lock.ids[index] as string;
      const at = bucket.ids.indexOf(id);
      assert(at !== -1 && bucket.locks[at] === lock, 'released lock is first in line');
      removeAt(bucket.locks, at);
      removeAt(bucket.ids, at);
      const nextAt = bucket.ids.indexOf(id, at);
      if (nextAt === -1) {
        this.locked--;
        continue;
      }
      const next = bucket.locks[nextAt] as KeyLock;
      next.blockedOn--;
      if (next.blockedOn === 0) (ready ??= []).push(next);
    }
    if (ready !== null) for (const next of ready) this.onAcquired(next.holder as Holder);
  }
}

/** Removes `array[index]` in place (splice would allocate an array of what it removed). */
function removeAt<T>(array: T[], index: number): void {
  if (index === 0) {
    array.shift();
    return;
  }
  for (let at = index + 1; at < array.length; at++) array[at - 1] = array[at] as T;
  array.pop();
}

/** A lock on the distinct keys of `ids` (a key repeated in one command counts once). */
function uniqueLock(slots: readonly number[], ids: readonly string[], holder: LockHolder):
    KeyLock {
  const uniqueSlots: number[] = [];
  const uniqueIds: string[] = [];
  const seen = ids.length > SCAN_UNIQUE_MAX ? new Set<string>() : null;
  for (let index = 0; index < ids.length; index++) {
    const id = ids[index] as string;
    if (seen !== null) {
      if (seen.has(id)) continue;
      seen.add(id);
    } else if (uniqueIds.includes(id)) {
      continue;
    }
    uniqueSlots.push(slots[index] as number);
    uniqueIds.push(id);
  }
  return new KeyLock(uniqueSlots, uniqueIds, holder);
}
