/**
 * The anti-entropy scheduler gives way to client traffic: while the node's event loop is
 * busy, periodic exchanges are deferred (not started, or stopped at their next page), but
 * never more than DEFERRALS_MAX in a row, and CLUSTER REPAIR is never deferred. The
 * repairer is a stand-in that counts exchanges, records whether they left recent writes
 * alone, and stops as Repairer does when asked to yield; the test drives the ticks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { PassDeferred, type PeerCall, type Repairer } from '../../src/antientropy/repairer.js';
import {
  AntiEntropyScheduler, DEFERRALS_MAX, SharedSlots, type RepairPeers,
} from '../../src/antientropy/scheduler.js';
import { Ring } from '../../src/cluster/ring.js';
import { systemClock } from '../../src/runtime/clock.js';
import { waitFor } from '../helpers/wait.js';

interface Harness {
  scheduler: AntiEntropyScheduler;
  /** settledBeforeMs of each exchange, in order (null: every difference moved). */
  exchanges: Array<number | null>;
  setUtilization(value: number): void;
  /** While set, exchanges wait for it before their first page. */
  gate: Promise<void> | null;
}

function harness(): Harness {
  const ring = new Ring([{ id: 'a', tokens: 8, rack: '' }, { id: 'b', tokens: 8, rack: '' }], 2);
  const exchanges: Array<number | null> = [];
  let utilization = 0;
  const repairer = {
    stats: { failures: 0 },
    exchange: async (_call: PeerCall, _shared: unknown, settledBeforeMs: number | null,
        yieldNow: (() => boolean) | null) => {
      if (state.gate !== null) await state.gate;
      if (yieldNow?.() === true) throw new PassDeferred();
      exchanges.push(settledBeforeMs);
      return 0;
    },
  } as unknown as Repairer;
  const peers: RepairPeers = {
    selfId: 'a',
    ring: () => ring,
    isDown: () => false,
    call: () => () => Promise.resolve(null),
  };
  const scheduler = new AntiEntropyScheduler(repairer, peers, new SharedSlots('a'), () => 30_000,
    () => 2000, systemClock, pino({ level: 'silent' }), () => utilization);
  const state: Harness = { scheduler, exchanges, gate: null,
    setUtilization: (value) => { utilization = value; } };
  return state;
}

test('a busy node runs one periodic exchange in DEFERRALS_MAX + 1 ticks', async () => {
  const { scheduler, exchanges, setUtilization } = harness();
  setUtilization(0.95);
  for (let tick = 1; tick <= 3 * (DEFERRALS_MAX + 1); tick++) {
    await scheduler.tick();
    // Ticks 1..9 are deferred, the 10th runs, and so on.
    assert.equal(scheduler.status.passes, Math.floor(tick / (DEFERRALS_MAX + 1)), `tick ${tick}`);
  }
  assert.equal(scheduler.status.deferred, 3 * DEFERRALS_MAX);
  assert.equal(exchanges.length, 3);
  // Periodic exchanges leave the last request timeout's writes to the write path.
  for (const settledBeforeMs of exchanges) {
    assert.ok(settledBeforeMs !== null && settledBeforeMs <= Date.now() - 2000);
  }
});

test('an idle node exchanges every tick; CLUSTER REPAIR never waits', async () => {
  const { scheduler, exchanges, setUtilization } = harness();
  setUtilization(0.95);
  // CLUSTER REPAIR on a busy node: at once, and every difference moves.
  scheduler.repairNow();
  await waitFor('the repair to run', () => (scheduler.status.passes === 1 ? true : undefined));
  assert.deepEqual(exchanges, [null]);
  setUtilization(0.1);
  for (let tick = 1; tick <= 5; tick++) await scheduler.tick();
  assert.equal(scheduler.status.passes, 6);
  assert.equal(scheduler.status.deferred, 0);
});

test('an exchange that started in a lull stops once the node is busy', async () => {
  const state = harness();
  const { scheduler, exchanges, setUtilization } = state;
  let open = (): void => undefined;
  state.gate = new Promise((resolve) => { open = resolve; });
  const first = scheduler.tick();
  setUtilization(0.95);
  open();
  await first;
  assert.equal(scheduler.status.deferred, 1);
  assert.equal(scheduler.status.passes, 0, 'a deferred exchange is not a pass');
  assert.deepEqual(exchanges, []);
  // Still busy: eight more ticks are deferred, then one runs to the end whatever the load.
  for (let tick = 2; tick <= DEFERRALS_MAX; tick++) await scheduler.tick();
  assert.equal(scheduler.status.passes, 0);
  await scheduler.tick();
  assert.equal(scheduler.status.passes, 1);
  assert.equal(scheduler.status.deferred, DEFERRALS_MAX);
  assert.equal(exchanges.length, 1);
});
