/**
 * Seeded, reproducible fault schedules for the cluster fault tests (FAULTS.md): a sequence
 * of single faults (kill -9 then restart, SIGSTOP then SIGCONT), each held for a while and
 * healed before the next one starts, so that at most one node of the cluster is faulty at
 * any time. Pure: the same seed and options always give the same schedule, printed by the
 * test so that a failing run can be replayed (FAULT_SEED=...).
 */
import { seededRandom } from '../../src/runtime/random.js';

export type FaultKind = 'kill' | 'pause';

export interface Fault {
  /** Milliseconds from the schedule's start. */
  atMs: number;
  kind: FaultKind;
  node: number;
  /** When the fault is healed (restart or resume), from the schedule's start. */
  healAtMs: number;
}

export interface ScheduleOptions {
  nodes: number;
  durationMs: number;
  /** A fault lasts between these (ms). */
  holdMs: readonly [number, number];
  /** Quiet time between healing one fault and starting the next (ms). */
  gapMs: readonly [number, number];
  kinds: readonly FaultKind[];
}

export function faultSchedule(seed: number, options: ScheduleOptions): Fault[] {
  const random = seededRandom(seed);
  const between = ([low, high]: readonly [number, number]): number =>
    Math.round(low + random.next() * (high - low));
  const faults: Fault[] = [];
  let atMs = between(options.gapMs);
  for (;;) {
    const healAtMs = atMs + between(options.holdMs);
    if (healAtMs > options.durationMs) break;
    const kind = options.kinds[Math.floor(random.next() * options.kinds.length)] as FaultKind;
    faults.push({ atMs, kind, node: Math.floor(random.next() * options.nodes), healAtMs });
    atMs = healAtMs + between(options.gapMs);
  }
  return faults;
}

/** One line per fault, for the test's diagnostics. */
export function describeSchedule(faults: readonly Fault[]): string {
  return faults.map((fault) => `${fault.kind} node ${fault.node} at ${fault.atMs} ms, ` +
    `healed at ${fault.healAtMs} ms`).join('; ');
}
