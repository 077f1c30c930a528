/**
 * The engine's uncommitted writes against a model: random writes and removes of a few keys
 * (some sharing a hash, some values big enough to live outside the ring), released in
 * order at random points as the writer thread would, in a ring that starts at 64 bytes so
 * it grows (and shrinks back) all the time. A key's pending write must be the newest
 * unreleased write of that key, and a range read must list exactly those in the range.
 * Kept without an index (keys only), the writes answer range reads the same with the
 * values the table gives, and `mayHold` says whether any unreleased write has a hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingWrites } from '../../src/storage/pending-writes.js';
import { OUT_OF_LINE_BYTES } from '../../src/storage/key-ring.js';
import { seededRandom } from '../../src/runtime/random.js';

const KEYS = Array.from({ length: 24 }, (_, index) => `key-${String(index).padStart(2, '0')}`);

/** Eight hashes for 24 keys: every hash is shared. */
function hashOf(key: string): number {
  return Number(key.slice(4)) % 8;
}

interface Write {
  key: string;
  value: string | null;
}

function newestPending(writes: readonly Write[], released: number, key: string):
    string | null | undefined {
  for (let index = writes.length - 1; index >= released; index--) {
    const write = writes[index] as Write;
    if (write.key === key) return write.value;
  }
  return undefined;
}

function run(seed: number, indexed: boolean): void {
  const random = seededRandom(seed);
  const pending = new PendingWrites(64, indexed);
  const writes: Write[] = [];
  let released = 0;
  for (let step = 0; step < 5000; step++) {
    const choice = random.next();
    const key = KEYS[Math.floor(random.next() * KEYS.length)] as string;
    if (choice < 0.45) {
      const big = random.next() < 0.01;
      const filler = big ? OUT_OF_LINE_BYTES : Math.floor(random.next() * 60);
      const value = `${step}:${'v'.repeat(filler)}`;
      pending.add(Buffer.from(key), hashOf(key), Buffer.from(value));
      writes.push({ key, value });
    } else if (choice < 0.55) {
      pending.add(Buffer.from(key), hashOf(key), null);
      writes.push({ key, value: null });
    } else if (choice < 0.65) {
      released += Math.floor(random.next() * (writes.length - released + 1));
      pending.release(released);
    } else if (choice < 0.68) {
      const [low, high] = [KEYS[Math.floor(random.next() * KEYS.length)] as string,
        KEYS[Math.floor(random.next() * KEYS.length)] as string].sort();
      // Kept without an index the values come from the table (its record cache): the
      // newest write of each key, which for a pending key is its newest pending one.
      const valueOf = (listedKey: Buffer): Buffer | null => {
        const value = newestPending(writes, released, listedKey.toString());
        assert.ok(value !== undefined, `value asked of ${listedKey.toString()}, not pending`);
        return value === null ? null : Buffer.from(value);
      };
      const listed = pending.inRange(Buffer.from(low as string), Buffer.from(high as string),
        indexed ? null : valueOf)
        .map(([listedKey, value]) => `${listedKey.toString()}=${value?.toString() ?? 'removed'}`);
      const expected = KEYS.filter((candidate) => candidate >= (low as string) &&
        candidate < (high as string))
        .map((candidate) => [candidate, newestPending(writes, released, candidate)] as const)
        .filter(([, value]) => value !== undefined)
        .map(([candidate, value]) => `${candidate}=${value ?? 'removed'}`);
      assert.deepEqual(listed, expected, `seed ${seed}, step ${step}: range ${low}..${high}`);
    } else if (!indexed) {
      const held = writes.slice(released).some((write) => hashOf(write.key) === hashOf(key));
      assert.equal(pending.mayHold(hashOf(key)), held, `seed ${seed}, step ${step}`);
    } else {
      const value = pending.get(Buffer.from(key), hashOf(key));
      const text = value === undefined ? undefined : value === null ? null : value.toString();
      assert.equal(text, newestPending(writes, released, key), `seed ${seed}, step ${step}`);
    }
    assert.equal(pending.size, writes.length - released);
  }
  pending.release(writes.length);
  assert.equal(pending.size, 0);
  // One small write after the burst: once it is released the ring shrinks back.
  pending.add(Buffer.from('last'), 1, Buffer.from('x'));
  pending.release(writes.length + 1);
  // (Within 4x of the 64 bytes needed: only a ring more oversized than that shrinks.)
  assert.ok(pending.capacity <= 4 * 64,
    `an empty ring far larger than needed shrinks (${pending.capacity} bytes)`);
}

test('pending writes equal the newest unreleased write of each key', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) run(seed, true);
});

test('kept without an index, range reads and mayHold equal the model', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) run(seed, false);
  const pending = new PendingWrites(64, false);
  assert.throws(() => pending.get(Buffer.from('key'), 1), /without an index/);
});

test('a ring grown for a burst shrinks under a steady load that never empties it', () => {
  const pending = new PendingWrites(1024);
  const value = Buffer.alloc(40, 1);
  let added = 0;
  const write = (): void => {
    const key = Buffer.from(`key-${added % 500}`);
    pending.add(key, added % 97, value);
    added++;
  };
  // A burst: the writer is behind by 4000 writes.
  for (let index = 0; index < 4000; index++) write();
  const grown = pending.capacity;
  assert.ok(grown >= 256 * 1024, `grown to ${grown}`);
  // Then a steady load: 20 writes between commits, each commit leaving the last 10 pending.
  pending.release(added - 10);
  for (let round = 0; round < 12; round++) {
    for (let index = 0; index < 20; index++) write();
    pending.release(added - 10);
    assert.equal(pending.size, 10);
  }
  assert.ok(pending.capacity <= 4096, `shrunk to ${pending.capacity} from ${grown}`);
  // What is still pending survived the move to the smaller ring.
  const newest = Buffer.from(`key-${(added - 1) % 500}`);
  assert.ok(value.equals(pending.get(newest, (added - 1) % 97) as Buffer));
});
