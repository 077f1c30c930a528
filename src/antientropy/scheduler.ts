/**
 * Runs anti-entropy: one Merkle exchange at a time, with the next peer that shares slots
 * with this node, every interval; CLUSTER REPAIR queues a pass over every peer at once.
 * A periodic exchange leaves alone the records written in the last `settleMs` before it
 * (they may still be on their way: planSlotRepair); CLUSTER REPAIR moves every difference.
 *
 * A periodic exchange gives way to client traffic: while the node is busy (its event loop
 * BUSY_UTILIZATION or more in use over the last second) it does not start, and one that
 * started in a lull stops at its next page once the node is busy again; either way it
 * counts as deferred, and at most DEFERRALS_MAX in a row are. Under a steady write load
 * every hot slot differs by the writes in flight, and an exchange reads such slots whole
 * on both sides: three 100k-key slots cost a loaded node ~1.7 s of its event loop per
 * pass, and with a pass every 10 s somewhere in a 3-node cluster, most 5 s benchmark runs
 * overlapped one. The pass that does run after DEFERRALS_MAX deferrals costs as much: in a
 * saturated 3-node cluster with one every 30 s per node, 9 s runs of QUORUM SETs fell from
 * 22-23k to 16-20k req/s and their p99 from 8-10 to 12-29 ms (bench/RESULTS.md).
 * Progress and totals are kept for INFO and logged per pass.
 */
import type { Logger } from 'pino';
import type { Ring } from '../cluster/ring.js';
import type { Clock } from '../runtime/clock.js';
import { PassDeferred, type PeerCall, type Repairer } from './repairer.js';

/**
 * Periodic exchanges a busy node defers in a row at most: under a steady load one runs
 * every DEFERRALS_MAX + 1 intervals (30 minutes at the default 30 s). Anti-entropy is the
 * backstop behind hints and read repair, and 30 minutes is far inside `tombstone-grace`
 * (a day), the bound a replica must be repaired within; it was 5 minutes, which put a
 * forced pass in every few minutes of a loaded cluster's benchmark runs.
 */
export const DEFERRALS_MAX = 59;
/** Event-loop utilization from which the node counts as busy with client traffic. */
export const BUSY_UTILIZATION = 0.4;

/** An exchange waiting its turn. */
interface QueuedExchange {
  peer: string;
  /**
   * A periodic exchange: it leaves recent writes to the write path and may give way to
   * client traffic. CLUSTER REPAIR's exchanges move every difference and never wait.
   */
  periodic: boolean;
}

export interface RepairPeers {
  readonly selfId: string;
  ring(): Ring;
  isDown(id: string): boolean;
  /** A way to call a peer, or null when there is no link. */
  call(id: string): PeerCall | null;
}

export interface SchedulerStatus {
  passes: number;
  /** Periodic exchanges put off because the node was busy. */
  deferred: number;
  running: boolean;
  currentPeer: string;
  lastPassMs: number;
  lastPassRepairedSlots: number;
}

/** Slots whose preference list holds both members (cached per ring). */
export class SharedSlots {
  private ring: Ring | null = null;
  private readonly masks = new Map<string, Uint8Array>();

  constructor(private readonly selfId: string) {}

  of(ring: Ring, peer: string): (slot: number) => boolean {
    if (ring !== this.ring) {
      this.ring = ring;
      this.masks.clear();
    }
    let mask = this.masks.get(peer);
    if (mask === undefined) {
      mask = new Uint8Array(16384);
      const self = ring.indexOf(this.selfId);
      const other = ring.indexOf(peer);
      if (self !== -1 && other !== -1) {
        for (let slot = 0; slot < 16384; slot++) {
          const list = ring.preferenceList(slot);
          if (list.includes(self) && list.includes(other)) mask[slot] = 1;
        }
      }
      this.masks.set(peer, mask);
    }
    const bits = mask;
    return (slot) => bits[slot] === 1;
  }
}

export class AntiEntropyScheduler {
  readonly status: SchedulerStatus = { passes: 0, deferred: 0, running: false,
    currentPeer: '', lastPassMs: 0, lastPassRepairedSlots: 0 };
  /** Periodic exchanges deferred in a row. */
  private deferredInRow = 0;
  private queue: QueuedExchange[] = [];
  private nextIndex = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repairer: Repairer,
    private readonly peers: RepairPeers,
    private readonly shared: SharedSlots,
    private readonly intervalMs: () => number,
    /** How long a write may still be on its way (the request timeout). */
    private readonly settleMs: () => number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** The node's event-loop utilization over the last second (runtime/load-gauge.ts). */
    private readonly utilization: () => number = () => 0,
  ) {}

  start(): void {
    const tick = (): void => {
      void this.tick();
      this.timer = setTimeout(tick, this.intervalMs());
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.intervalMs());
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
  }

  /** CLUSTER REPAIR: exchange with every peer now, one after the other. */
  repairNow(): void {
    this.queue = this.candidates().map((peer) => ({ peer, periodic: false }));
    void this.drain();
  }

  private candidates(): string[] {
    const ring = this.peers.ring();
    return ring.members.map((member) => member.id)
      .filter((id) => id !== this.peers.selfId && !this.peers.isDown(id));
  }

  /** One periodic tick: an exchange with the next peer in turn, unless it is deferred. */
  async tick(): Promise<void> {
    if (this.status.running) return;
    if (this.mayDefer() && this.busy()) {
      this.defer();
      return;
    }
    const candidates = this.candidates();
    if (candidates.length === 0) return;
    const peer = candidates[this.nextIndex % candidates.length] as string;
    this.nextIndex++;
    this.queue.push({ peer, periodic: true });
    await this.drain();
  }

  private mayDefer(): boolean {
    return this.deferredInRow < DEFERRALS_MAX;
  }

  private busy(): boolean {
    return this.utilization() >= BUSY_UTILIZATION;
  }

  private defer(): void {
    this.deferredInRow++;
    this.status.deferred++;
  }

  private async drain(): Promise<void> {
    if (this.status.running) return;
    this.status.running = true;
    const started = this.clock.monotonicMs();
    let repaired = 0;
    let completed = 0;
    try {
      while (this.queue.length > 0) {
        const outcome = await this.exchange(this.queue.shift() as QueuedExchange);
        if (outcome === null) continue;
        repaired += outcome;
        completed++;
      }
    } finally {
      this.status.running = false;
      this.status.currentPeer = '';
      if (completed > 0) {
        this.status.passes++;
        this.status.lastPassMs = Math.round(this.clock.monotonicMs() - started);
        this.status.lastPassRepairedSlots = repaired;
      }
    }
    if (repaired > 0) {
      this.logger.info({ repairedSlots: repaired, ms: this.status.lastPassMs },
        'anti-entropy pass repaired slots');
    }
  }

  /** Slots repaired, or null when the exchange gave way to client traffic. */
  private async exchange({ peer, periodic }: QueuedExchange): Promise<number | null> {
    const call = this.peers.call(peer);
    if (call === null || this.peers.isDown(peer)) return 0;
    this.status.currentPeer = peer;
    try {
      const repaired = await this.repairer.exchange(call,
        this.shared.of(this.peers.ring(), peer),
        periodic ? this.clock.nowMs() - this.settleMs() : null,
        periodic && this.mayDefer() ? () => this.busy() : null);
      if (periodic) this.deferredInRow = 0;
      return repaired;
    } catch (error) {
      if (error instanceof PassDeferred) {
        this.defer();
        return null;
      }
      this.repairer.stats.failures++;
      this.logger.warn({ peer, err: error }, 'anti-entropy exchange failed');
      return 0;
    }
  }
}
