/**
 * Phi-accrual failure detection: phi is -log10 of the probability that a heartbeat would
 * still arrive this late, under a normal model of the intervals seen (plus the acceptable
 * pause), with a floor on the deviation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PhiAccrualDetector,
  type FailureDetectorOptions,
} from '../../src/cluster/failure-detector.js';
import { AssertionError } from '../../src/util/assert.js';

const OPTIONS: FailureDetectorOptions = {
  windowSize: 100, minStdDevMs: 100, expectedIntervalMs: 1000, acceptablePauseMs: 0,
};

function detector(options: Partial<FailureDetectorOptions> = {}): PhiAccrualDetector {
  return new PhiAccrualDetector({ ...OPTIONS, ...options });
}

/** Heartbeats every `intervalMs`, `count` times from time 0; returns the last arrival. */
function feed(target: PhiAccrualDetector, intervalMs: number, count: number, startMs = 0):
    number {
  let nowMs = startMs;
  for (let beat = 0; beat < count; beat++) {
    nowMs += intervalMs;
    target.heartbeat(nowMs);
  }
  return nowMs;
}

/** -log10 of the upper tail of the standard normal, by Simpson integration of its density. */
function referencePhi(y: number): number {
  const density = (x: number): number => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const upper = y + 12;
  const steps = 2000;
  const width = (upper - y) / steps;
  let sum = density(y) + density(upper);
  for (let step = 1; step < steps; step++) {
    sum += density(y + step * width) * (step % 2 === 1 ? 4 : 2);
  }
  return -Math.log10(sum * width / 3);
}

test('phi is 0 before the first heartbeat', () => {
  const fresh = detector();
  assert.equal(fresh.phi(0), 0);
  assert.equal(fresh.phi(1_000_000), 0);
  assert.equal(fresh.lastHeartbeatMs, null);
});

test('bootstrap: one heartbeat is judged by the expected interval (mean 1000, sd 250)', () => {
  const cases: Array<{ elapsedMs: number; y: number }> = [
    { elapsedMs: 1000, y: 0 },
    { elapsedMs: 1250, y: 1 },
    { elapsedMs: 1500, y: 2 },
    { elapsedMs: 1750, y: 3 },
    { elapsedMs: 2000, y: 4 },
  ];
  const target = detector();
  target.heartbeat(5000);
  assert.equal(target.lastHeartbeatMs, 5000);
  for (const { elapsedMs, y } of cases) {
    const phi = target.phi(5000 + elapsedMs);
    const expected = referencePhi(y);
    // The logistic approximation stays within 10% of the normal tail up to 4 sd.
    assert.ok(Math.abs(phi - expected) <= 0.1 * expected + 0.01,
      `elapsed ${elapsedMs}: phi ${phi}, normal tail ${expected}`);
  }
  assert.ok(Math.abs(target.phi(6000) - Math.log10(2)) < 1e-9, 'phi at the mean is log10 2');
});

test('phi never decreases while no heartbeat arrives, and stays finite', () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 0, maxLength: 30 }),
    fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }),
    (intervals, first, second) => {
      const target = detector({ acceptablePauseMs: 500 });
      let nowMs = 0;
      target.heartbeat(nowMs);
      for (const interval of intervals) target.heartbeat(nowMs += interval);
      const [early, late] = first <= second ? [first, second] : [second, first];
      const phiEarly = target.phi(nowMs + early);
      const phiLate = target.phi(nowMs + late);
      assert.ok(Number.isFinite(phiEarly) && Number.isFinite(phiLate));
      assert.ok(phiLate >= phiEarly - 1e-12, `${phiEarly} then ${phiLate}`);
    }), { seed: 11 });
  const target = detector();
  feed(target, 1000, 10);
  const huge = target.phi(1e12);
  assert.ok(Number.isFinite(huge) && huge > 100, `phi after a very long silence: ${huge}`);
  assert.ok(target.phi(0) <= 1e-6, 'a clock that went backwards is no evidence of failure');
});

test('regular heartbeats: the deviation floor and the acceptable pause set the threshold', () => {
  // After a window of perfectly regular intervals the deviation is the floor, so phi at
  // mean + pause + k * floor is the same for every configuration.
  const cases = [
    { minStdDevMs: 100, acceptablePauseMs: 0 },
    { minStdDevMs: 250, acceptablePauseMs: 0 },
    { minStdDevMs: 100, acceptablePauseMs: 3000 },
    { minStdDevMs: 500, acceptablePauseMs: 1000 },
  ];
  for (const options of cases) {
    const target = detector({ ...options, windowSize: 10 });
    const last = feed(target, 1000, 20);
    const at = (k: number): number =>
      target.phi(last + 1000 + options.acceptablePauseMs + k * options.minStdDevMs);
    assert.ok(Math.abs(at(0) - Math.log10(2)) < 1e-9, JSON.stringify(options));
    assert.ok(Math.abs(at(3) - referencePhi(3)) < 0.1, JSON.stringify(options));
    assert.ok(at(-3) < 0.01, JSON.stringify(options));
    assert.ok(at(6) > 8, JSON.stringify(options));
  }
});

test('irregular intervals widen the deviation and delay suspicion', () => {
  const regular = detector({ windowSize: 20 });
  const irregular = detector({ windowSize: 20 });
  const lastRegular = feed(regular, 1000, 40);
  let nowMs = 0;
  for (let beat = 0; beat < 40; beat++) irregular.heartbeat(nowMs += beat % 2 === 0 ? 500 : 1500);
  // Both have a mean interval of 1000 ms.
  assert.ok(Math.abs(regular.phi(lastRegular + 1000) - irregular.phi(nowMs + 1000)) < 1e-9);
  assert.ok(regular.phi(lastRegular + 2000) > 8);
  assert.ok(irregular.phi(nowMs + 2000) < 2, 'sd 500: two seconds is only 2 sd late');
});

test('the window forgets old intervals (bootstrap included)', () => {
  const target = detector({ windowSize: 4, expectedIntervalMs: 100 });
  const last = feed(target, 2000, 5);
  assert.ok(Math.abs(target.phi(last + 2000) - Math.log10(2)) < 1e-9, 'mean is now 2000');
  const slower = feed(target, 4000, 4, last);
  assert.ok(Math.abs(target.phi(slower + 4000) - Math.log10(2)) < 1e-9, 'mean is now 4000');
});

test('a repeated or out-of-order arrival adds no interval', () => {
  const once = detector();
  const twice = detector();
  feed(once, 1000, 10);
  feed(twice, 1000, 10);
  twice.heartbeat(10_000);
  twice.heartbeat(10_000);
  assert.equal(twice.phi(11_500), once.phi(11_500));
});

test('a window smaller than two samples is a programmer error', () => {
  assert.throws(() => detector({ windowSize: 1 }), AssertionError);
  assert.doesNotThrow(() => detector({ windowSize: 2 }));
});
