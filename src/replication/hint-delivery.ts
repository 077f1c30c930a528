/**
 * Replays hints (coordinator/hints.ts) to their replicas once those are up again: every
 * round, for each replica with hints that is not down, send the oldest hints in order as
 * PEER.PUTSTORED and drop each one the replica acknowledged. A replica that fails stops
 * its replay until the next round.
 */
import type { Logger } from 'pino';
import type { PeerCall } from '../antientropy/repairer.js';
import type { HintStore } from '../coordinator/hints.js';
import type { Clock } from '../runtime/clock.js';

export interface HintTargets {
  isDown(id: string): boolean;
  call(id: string): PeerCall | null;
}

/** Hints replayed per replica per round at most (pipelined). */
const BATCH = 256;

export class HintDelivery {
  private running = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly hints: HintStore,
    private readonly targets: HintTargets,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.round(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  /** One replay round (also callable directly, e.g. when a replica comes back). */
  async round(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const target of this.hints.targets()) {
        if (this.targets.isDown(target)) continue;
        const call = this.targets.call(target);
        if (call !== null) await this.replay(target, call);
      }
    } finally {
      this.running = false;
    }
  }

  private async replay(target: string, call: PeerCall): Promise<void> {
    for (;;) {
      const batch = this.hints.batch(target, BATCH, this.clock.nowMs());
      if (batch.length === 0) return;
      const results = await Promise.allSettled(batch.map((hint) =>
        call(['PEER.PUTSTORED', hint.stored, hint.record.bytes])));
      let delivered = 0;
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') {
          this.hints.delivered(batch[index] as (typeof batch)[number]);
          delivered++;
        }
      });
      if (delivered < batch.length) {
        this.logger.warn({ target, delivered, failed: batch.length - delivered },
          'hint replay interrupted; retrying next round');
        return;
      }
    }
  }
}
