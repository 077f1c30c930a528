/**
 * Consistency levels (DESIGN.md section 5): how many replicas a read (R) or a write (W)
 * waits for, as ONE, QUORUM, ALL or a number, resolved against the replica count of the
 * key's preference list at request time. Pure.
 */
export type LevelName = 'one' | 'quorum' | 'all';
export type Level = LevelName | number;

export interface Consistency {
  read: Level;
  write: Level;
}

/** Replicas a request at `level` must hear from, out of `replicas`. */
export function requiredReplicas(level: Level, replicas: number): number {
  switch (level) {
    case 'one':
      return 1;
    case 'quorum':
      return Math.floor(replicas / 2) + 1;
    case 'all':
      return Math.max(1, replicas);
    default:
      return level;
  }
}

/** Parses ONE / QUORUM / ALL / a positive integer; null when invalid. */
export function parseLevel(text: string): Level | null {
  const lower = text.toLowerCase();
  if (lower === 'one' || lower === 'quorum' || lower === 'all') return lower;
  // A replica count: at most the largest replication factor (16).
  if (!/^([1-9]|1[0-6])$/.test(text)) return null;
  return Number(text);
}

export function levelName(level: Level): string {
  return typeof level === 'number' ? String(level) : level.toUpperCase();
}
