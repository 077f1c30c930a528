/**
 * Buffer helpers for the hot path. `latin1Slice` is Node's internal fast path behind
 * `toString('latin1')` (present on Buffer.prototype in every Node release); it skips the
 * encoding lookup and argument checks, and a latin1 string maps bytes 1:1, so it is a
 * lossless key for Maps and an exact way to compare command names.
 */
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
  }
}

export {};
