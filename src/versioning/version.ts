/**
 * Versions order writes to the same key. A version is a hybrid logical clock reading
 * (physical milliseconds plus a logical counter) stamped by the coordinator, with the
 * coordinator's node tag as the final tie-break, so every replica picks the same winner
 * (last-write-wins, DESIGN.md section 4).
 */
export interface Version {
  /** Wall-clock milliseconds, never going backwards on one node (48 bits on disk). */
  physicalMs: number;
  /** Counter for writes within the same millisecond (16 bits on disk). */
  logical: number;
  /** 32-bit tag derived from the writing node's id; breaks ties between nodes. */
  nodeTag: number;
}

export const ZERO_VERSION: Version = { physicalMs: 0, logical: 0, nodeTag: 0 };

/** Negative when a is older than b, positive when newer, 0 when identical. */
export function compareVersions(a: Version, b: Version): number {
  if (a.physicalMs !== b.physicalMs) return a.physicalMs - b.physicalMs;
  if (a.logical !== b.logical) return a.logical - b.logical;
  return a.nodeTag - b.nodeTag;
}
