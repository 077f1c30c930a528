/**
 * Runs anti-entropy: one Merkle exchange at a time, with the next peer that shares slots
 * with this node, every interval; CLUSTER REPAIR queues a pass over every peer at once.
 * A periodic exchange leaves alone the records written in the last `settleMs` before it
 * (they may still be on their way: planSlotRepair); CLUSTER REPAIR moves every difference.
 * Progress and totals are kept for INFO and logged per pass.
 */
import type { Logger } from 'pino';
import type { Ring } from '../cluster/ring.js';
import type { Clock } from '../runtime/clock.js';
import type { PeerCall, Repairer } from './repairer.js';

export interface RepairPeers {
  readonly selfId: string;
  ring(): Ring;
  isDown(id: string): boolean;
  /** A way to call a peer, or null when there is no link. */
  call(id: string): PeerCall | null;
}

export interface SchedulerStatus {
  passes: number;
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
  readonly status: SchedulerStatus = { passes: 0, running: false, currentPeer: '',
    lastPassMs: 0, lastPassRepairedSlots: 0 };
  /** Peers to exchange with, and whether recent writes are left to the write path. */
  private queue: Array<{ peer: string; settle: boolean }> = [];
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
  ) {}

  start(): void {
    const tick = (): void => {
      void this.runOnce();
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
    this.queue = this.candidates().map((peer) => ({ peer, settle: false }));
    void this.drain();
  }

  private candidates(): string[] {
    const ring = this.peers.ring();
    return ring.members.map((member) => member.id)
      .filter((id) => id !== this.peers.selfId && !this.peers.isDown(id));
  }

  /** One exchange with the next peer in turn (the periodic pass). */
  private async runOnce(): Promise<void> {
    if (this.status.running) return;
    const candidates = this.candidates();
    if (candidates.length === 0) return;
    const peer = candidates[this.nextIndex % candidates.length] as string;
    this.nextIndex++;
    this.queue.push({ peer, settle: true });
    await this.drain();
  }

  private async drain(): Promise<void> {
    if (this.status.running) return;
    this.status.running = true;
    const started = this.clock.monotonicMs();
    let repaired = 0;
    try {
      while (this.queue.length > 0) {
        const { peer, settle } = this.queue.shift() as { peer: string; settle: boolean };
        repaired += await this.exchange(peer, settle);
      }
    } finally {
      this.status.running = false;
      this.status.currentPeer = '';
      this.status.passes++;
      this.status.lastPassMs = Math.round(this.clock.monotonicMs() - started);
      this.status.lastPassRepairedSlots = repaired;
    }
    if (repaired > 0) {
      this.logger.info({ repairedSlots: repaired, ms: this.status.lastPassMs },
        'anti-entropy pass repaired slots');
    }
  }

  private async exchange(peer: string, settle: boolean): Promise<number> {
    const call = this.peers.call(peer);
    if (call === null || this.peers.isDown(peer)) return 0;
    this.status.currentPeer = peer;
    try {
      return await this.repairer.exchange(call, this.shared.of(this.peers.ring(), peer),
        settle ? this.clock.nowMs() - this.settleMs() : null);
    } catch (error) {
      this.repairer.stats.failures++;
      this.logger.warn({ peer, err: error }, 'anti-entropy exchange failed');
      return 0;
    }
  }
}
