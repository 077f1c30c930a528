/**
 * The latency histogram behind INFO latencystats: a recorded value's percentile is the upper
 * edge of its bucket, never below the value and at most one sub-bucket (1/16) above it, on
 * both sides of the 2^31 ns boundary where bucketing switches from clz32 to log2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LatencyHistogram } from '../../src/util/latency-histogram.js';

function edgeOf(nanoseconds: number): number {
  const histogram = new LatencyHistogram();
  histogram.record(nanoseconds);
  return histogram.percentile(100);
}

test('small values have exact buckets', () => {
  assert.equal(edgeOf(0), 1);
  assert.equal(edgeOf(15), 16);
  assert.equal(edgeOf(16), 17);
});

test('every value lies in its bucket, within 1/16 of the upper edge', () => {
  fc.assert(fc.property(fc.integer({ min: 16, max: 2 ** 40 }), (value) => {
    const edge = edgeOf(value);
    assert.ok(edge > value, `edge ${edge} above ${value}`);
    assert.ok(edge <= value * (1 + 1 / 16) + 1, `edge ${edge} close to ${value}`);
  }), { numRuns: 2000 });
  for (const value of [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32, 2 ** 32 + 5]) {
    const edge = edgeOf(value);
    assert.ok(edge > value && edge <= value * (1 + 1 / 16) + 1, `${value} -> ${edge}`);
  }
});

test('percentiles rank the recorded values', () => {
  const histogram = new LatencyHistogram();
  for (let index = 1; index <= 100; index++) histogram.record(index * 1000);
  assert.equal(histogram.count, 100);
  const p50 = histogram.percentile(50);
  assert.ok(p50 >= 50_000 && p50 <= 50_000 * (1 + 1 / 16), String(p50));
  const p99 = histogram.percentile(99);
  assert.ok(p99 >= 99_000 && p99 <= 99_000 * (1 + 1 / 16), String(p99));
});
