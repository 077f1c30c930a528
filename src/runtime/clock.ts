/**
 * Time as an injected dependency (STYLE.md section 9): pure modules take `nowMs` as an
 * argument; I/O shells receive a Clock. Only this file reads the system clock.
 */
export interface Clock {
  /** Wall-clock Unix time in milliseconds (may jump; use for versions and expiry). */
  nowMs(): number;
  /** Wall-clock Unix time in microseconds (TIME). */
  nowMicros(): bigint;
  /** Monotonic milliseconds for measuring durations and timeouts. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  nowMicros: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)),
  monotonicMs: () => performance.now(),
};
