/**
 * Checkers over a fault test's history (history.ts), after the cluster healed:
 *
 * - lostWrites: every acknowledged write of a unique key is readable with its value at
 *   CONSISTENCY ALL; writes whose outcome was unknown may be there or not (recovered).
 * - convergence: every replica of every checked key holds the same value.
 * - sessionGuarantees: for keys with a single writer that writes increasing numbers, with
 *   R + W > N: a process never reads a value older than its own last acknowledged write
 *   (read-your-writes) nor older than a value it read before (monotonic reads).
 * - counterBound: an INCR counter ends at least at the highest acknowledged result.
 */
import type { History, Operation } from './history.js';

export interface LostWritesReport {
  acknowledged: number;
  lost: string[];
  /** Writes with an unknown outcome that turned out applied. */
  recovered: number;
  unknownMissing: number;
}

export function lostWrites(history: History, finalValues: ReadonlyMap<string, string | null>):
    LostWritesReport {
  const report: LostWritesReport = { acknowledged: 0, lost: [], recovered: 0,
    unknownMissing: 0 };
  for (const operation of history.operations) {
    if (operation.kind !== 'write') continue;
    const final = finalValues.get(operation.key) ?? null;
    if (operation.outcome === 'ok') {
      report.acknowledged++;
      if (final !== operation.value) report.lost.push(operation.key);
    } else if (operation.outcome === 'info') {
      if (final === operation.value) report.recovered++;
      else report.unknownMissing++;
    }
  }
  return report;
}

export interface ConvergenceReport {
  keys: number;
  diverged: Array<{ key: string; values: Array<string | null> }>;
}

/** `replicaValues` maps a key to the value each of its replicas holds. */
export function convergence(replicaValues: ReadonlyMap<string, ReadonlyArray<string | null>>):
    ConvergenceReport {
  const report: ConvergenceReport = { keys: replicaValues.size, diverged: [] };
  for (const [key, values] of replicaValues) {
    if (values.some((value) => value !== values[0])) {
      report.diverged.push({ key, values: [...values] });
    }
  }
  return report;
}

export interface SessionViolation {
  process: number;
  key: string;
  kind: 'read-your-writes' | 'monotonic-read';
  read: number;
  expectedAtLeast: number;
  operation: number;
}

/**
 * Values are decimal integers written in increasing order by one writer per key. A read
 * (ok) is compared with the process's own last acknowledged write of the key and with the
 * largest value it read before. Only operations in each process's own order are compared
 * (real-time order across processes is not assumed).
 */
export function sessionGuarantees(history: History): SessionViolation[] {
  const violations: SessionViolation[] = [];
  const lastWrite = new Map<string, number>();
  const lastRead = new Map<string, number>();
  const byProcess = new Map<number, Operation[]>();
  for (const operation of history.operations) {
    const list = byProcess.get(operation.process) ?? [];
    list.push(operation);
    byProcess.set(operation.process, list);
  }
  for (const [process, operations] of byProcess) {
    for (const operation of operations) {
      if (operation.outcome !== 'ok') continue;
      const slot = `${process} ${operation.key}`;
      if (operation.kind === 'write') {
        lastWrite.set(slot, Number(operation.value));
        continue;
      }
      if (operation.kind !== 'read') continue;
      const read = operation.value === null ? -1 : Number(operation.value);
      const written = lastWrite.get(slot) ?? -1;
      const seen = lastRead.get(slot) ?? -1;
      if (read < written) {
        violations.push({ process, key: operation.key, kind: 'read-your-writes', read,
          expectedAtLeast: written, operation: operation.index });
      } else if (read < seen) {
        violations.push({ process, key: operation.key, kind: 'monotonic-read', read,
          expectedAtLeast: seen, operation: operation.index });
      }
      lastRead.set(slot, Math.max(seen, read));
    }
  }
  return violations;
}

/** The highest acknowledged INCR result per key (the counter must end at least there). */
export function counterFloors(history: History): Map<string, number> {
  const floors = new Map<string, number>();
  for (const operation of history.operations) {
    if (operation.kind !== 'incr' || operation.outcome !== 'ok') continue;
    const value = Number(operation.value);
    floors.set(operation.key, Math.max(floors.get(operation.key) ?? 0, value));
  }
  return floors;
}
