/**
 * How busy this node's event loop was over the last second (event-loop utilization:
 * the share of time spent running callbacks rather than waiting for I/O), sampled once a
 * second. Background work (anti-entropy) reads it to give way to client traffic.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

const SAMPLE_MS = 1000;

export class LoadGauge {
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private timer: NodeJS.Timeout | null = null;
  /** Utilization (0..1) over the last complete second. */
  utilization = 0;

  start(): void {
    this.timer = setInterval(() => {
      const now = performance.eventLoopUtilization();
      this.utilization = performance.eventLoopUtilization(now, this.last).utilization;
      this.last = now;
    }, SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }
}
