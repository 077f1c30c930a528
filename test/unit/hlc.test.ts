/**
 * Hybrid logical clock and version order: readings never go backwards, follow wall-clock
 * time, borrow a millisecond when the logical counter is full, and move past versions
 * observed from peers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HybridLogicalClock } from '../../src/versioning/hlc.js';
import { compareVersions, ZERO_VERSION, type Version } from '../../src/versioning/version.js';
import { AssertionError } from '../../src/util/assert.js';

const v = (physicalMs: number, logical: number, nodeTag = 7): Version =>
  ({ physicalMs, logical, nodeTag });

test('now(): follows the wall clock and resets the logical counter', () => {
  const clock = new HybridLogicalClock(7);
  assert.deepEqual(clock.now(1000), v(1000, 0));
  assert.deepEqual(clock.now(1001), v(1001, 0));
  assert.deepEqual(clock.now(5000), v(5000, 0));
});

test('now(): same millisecond or a clock going backwards increments the counter', () => {
  const clock = new HybridLogicalClock(7);
  clock.now(1000);
  assert.deepEqual(clock.now(1000), v(1000, 1));
  assert.deepEqual(clock.now(999), v(1000, 2), 'wall clock stepped back');
  assert.deepEqual(clock.now(0), v(1000, 3));
  assert.deepEqual(clock.now(1001), v(1001, 0));
});

test('now(): a full logical counter borrows the next millisecond, then catches up', () => {
  const clock = new HybridLogicalClock(7);
  clock.now(1000);
  for (let logical = 1; logical <= 0xffff; logical++) clock.now(1000);
  assert.deepEqual(clock.now(1000), v(1001, 0), 'borrowed, not wrapped');
  assert.deepEqual(clock.now(1000), v(1001, 1));
  assert.deepEqual(clock.now(1001), v(1001, 2), 'wall clock reaches the borrowed ms');
  assert.deepEqual(clock.now(1002), v(1002, 0));
});

test('now(): the physical part is clamped to 48 bits', () => {
  const clock = new HybridLogicalClock(1);
  assert.equal(clock.now(2 ** 50).physicalMs, 2 ** 48 - 1);
});

test('observe(): moves past a newer peer version; ignores older ones', () => {
  const clock = new HybridLogicalClock(7);
  clock.now(1000);
  clock.observe(v(5000, 3, 99));
  assert.deepEqual(clock.now(1000), v(5000, 4), 'after the observed version');
  clock.observe(v(5000, 2, 99));
  clock.observe(v(10, 60000, 99));
  assert.deepEqual(clock.now(1000), v(5000, 5), 'older versions change nothing');
  clock.observe(v(5000, 9, 99));
  assert.deepEqual(clock.now(5000), v(5000, 10), 'same ms, larger counter');
  assert.deepEqual(clock.now(6000), v(6000, 0));
});

test('observe(): a peer at a full counter makes the next reading borrow a millisecond', () => {
  const clock = new HybridLogicalClock(7);
  clock.observe(v(2000, 0xffff, 1));
  assert.deepEqual(clock.now(2000), v(2001, 0));
});

test('constructor: the node tag must be a u32', () => {
  for (const tag of [0, 1, 0xffffffff]) {
    assert.equal(new HybridLogicalClock(tag).now(1).nodeTag, tag);
  }
  for (const tag of [-1, 2 ** 32, 1.5, NaN]) {
    assert.throws(() => new HybridLogicalClock(tag), AssertionError, String(tag));
  }
});

type Event = { kind: 'now'; nowMs: number } | { kind: 'observe'; version: Version };

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 3000 }).map((nowMs): Event =>
    ({ kind: 'now', nowMs })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 3000 }),
    fc.integer({ min: 0, max: 0xffff })).map(([physicalMs, logical]): Event =>
    ({ kind: 'observe', version: v(physicalMs, logical, 1) })) },
);

test('property: readings strictly increase and pass every observed version', () => {
  fc.assert(fc.property(fc.array(event, { maxLength: 200 }), (events) => {
    const clock = new HybridLogicalClock(7);
    let last: Version = ZERO_VERSION;
    let observed: Version = ZERO_VERSION;
    for (const item of events) {
      if (item.kind === 'observe') {
        clock.observe(item.version);
        if (compareVersions(item.version, observed) > 0) observed = item.version;
        continue;
      }
      const reading = clock.now(item.nowMs);
      assert.ok(compareVersions(reading, last) > 0, 'strictly increasing');
      assert.ok(reading.physicalMs > observed.physicalMs ||
        (reading.physicalMs === observed.physicalMs && reading.logical > observed.logical),
      'after everything observed');
      assert.ok(reading.physicalMs >= item.nowMs, 'never behind the wall clock');
      assert.ok(reading.logical <= 0xffff);
      last = reading;
    }
  }), { numRuns: 500 });
});

const ORDER: Array<[Version, Version, number]> = [
  [v(1, 0, 0), v(2, 0, 0), -1],
  [v(2, 0, 0), v(1, 0xffff, 0xffffffff), 1],
  [v(5, 1, 0), v(5, 2, 0), -1],
  [v(5, 2, 1), v(5, 2, 2), -1],
  [v(5, 2, 0xffffffff), v(5, 2, 0), 1],
  [v(5, 2, 3), v(5, 2, 3), 0],
  [ZERO_VERSION, v(0, 0, 1), -1],
];

for (const [a, b, sign] of ORDER) {
  test(`compareVersions(${JSON.stringify(a)}, ${JSON.stringify(b)}) has sign ${sign}`, () => {
    assert.equal(Math.sign(compareVersions(a, b)), sign);
    assert.equal(Math.sign(compareVersions(b, a)), sign === 0 ? 0 : -sign);
  });
}
