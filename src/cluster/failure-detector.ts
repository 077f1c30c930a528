/**
 * Phi-accrual failure detection (Hayashibara et al.), one detector per peer. Instead of a
 * yes/no timeout it gives a suspicion level phi that grows the longer a heartbeat is
 * overdue compared with the intervals seen so far: phi = -log10(P(a heartbeat arrives
 * later than now)), with inter-arrival times modelled as a normal distribution.
 * Pure: arrival times come in as arguments.
 */
import { assert } from '../util/assert.js';

export interface FailureDetectorOptions {
  /** Inter-arrival samples kept. */
  readonly windowSize: number;
  /** Floor for the standard deviation, so a very regular peer is not convicted by jitter. */
  readonly minStdDevMs: number;
  /** Interval assumed before enough samples exist (the gossip interval). */
  readonly expectedIntervalMs: number;
  /** Extra margin added to the mean (GC pauses, scheduling). */
  readonly acceptablePauseMs: number;
}

export class PhiAccrualDetector {
  private readonly intervals: number[] = [];
  private sum = 0;
  private sumOfSquares = 0;
  private lastArrivalMs: number | null = null;

  constructor(private readonly options: FailureDetectorOptions) {
    assert(options.windowSize >= 2, 'failure detector window holds at least two samples');
    // Bootstrap with two samples around the expected interval.
    this.addInterval(options.expectedIntervalMs - options.expectedIntervalMs / 4);
    this.addInterval(options.expectedIntervalMs + options.expectedIntervalMs / 4);
  }

  /** Records a heartbeat (a newer heartbeat counter seen from the peer) at `nowMs`. */
  heartbeat(nowMs: number): void {
    if (this.lastArrivalMs !== null && nowMs > this.lastArrivalMs) {
      this.addInterval(nowMs - this.lastArrivalMs);
    }
    this.lastArrivalMs = nowMs;
  }

  get lastHeartbeatMs(): number | null {
    return this.lastArrivalMs;
  }

  /** Suspicion level at `nowMs`; 0 before the first heartbeat. */
  phi(nowMs: number): number {
    if (this.lastArrivalMs === null) return 0;
    const elapsed = nowMs - this.lastArrivalMs;
    const count = this.intervals.length;
    const mean = this.sum / count + this.options.acceptablePauseMs;
    const variance = Math.max(0, this.sumOfSquares / count - (this.sum / count) ** 2);
    const stdDev = Math.max(Math.sqrt(variance), this.options.minStdDevMs);
    const y = (elapsed - mean) / stdDev;
    // Logistic approximation of the normal CDF's tail (as used by Akka and Cassandra).
    const e = Math.exp(-y * (1.5976 + 0.070566 * y * y));
    const probabilityLater = elapsed > mean ? e / (1 + e) : 1 - 1 / (1 + e);
    return -Math.log10(Math.max(probabilityLater, Number.MIN_VALUE));
  }

  private addInterval(intervalMs: number): void {
    this.intervals.push(intervalMs);
    this.sum += intervalMs;
    this.sumOfSquares += intervalMs * intervalMs;
    if (this.intervals.length > this.options.windowSize) {
      const dropped = this.intervals.shift() as number;
      this.sum -= dropped;
      this.sumOfSquares -= dropped * dropped;
    }
  }
}
