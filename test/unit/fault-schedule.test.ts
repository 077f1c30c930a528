import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultSchedule } from '../helpers/fault-schedule.js';

const OPTIONS = { nodes: 3, durationMs: 60_000, holdMs: [800, 3000] as const,
  gapMs: [1500, 3000] as const, kinds: ['kill', 'pause'] as const };

test('a seed always gives the same schedule; another seed another one', () => {
  assert.deepEqual(faultSchedule(42, OPTIONS), faultSchedule(42, OPTIONS));
  assert.notDeepEqual(faultSchedule(42, OPTIONS), faultSchedule(43, OPTIONS));
});

test('faults never overlap, respect the bounds and end within the duration', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const faults = faultSchedule(seed, OPTIONS);
    assert.ok(faults.length >= 10, `seed ${seed}: ${faults.length} faults in 60 s`);
    let previousHealMs = 0;
    for (const fault of faults) {
      assert.ok(fault.atMs - previousHealMs >= 1500 && fault.atMs - previousHealMs <= 3000);
      assert.ok(fault.healAtMs - fault.atMs >= 800 && fault.healAtMs - fault.atMs <= 3000);
      assert.ok(fault.node >= 0 && fault.node < 3);
      assert.ok(fault.healAtMs <= OPTIONS.durationMs);
      previousHealMs = fault.healAtMs;
    }
    assert.ok(faults.some((fault) => fault.kind === 'kill') &&
      faults.some((fault) => fault.kind === 'pause'), `seed ${seed}: both kinds`);
  }
});
