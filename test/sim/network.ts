/**
 * A deterministic clock and network for simulations (STYLE.md section 10). Every event, a
 * timer or a message delivery, sits in one queue ordered by simulated time (ties in the
 * order they were scheduled), and every random choice (delay, drop, duplicate) comes from
 * one seeded Random, so a seed replays a run exactly. Nothing here reads the real clock or
 * opens a socket.
 */
import { murmur3 } from '../../src/cluster/hash.js';
import type { Clock } from '../../src/runtime/clock.js';
import { seededRandom, type Random } from '../../src/runtime/random.js';
import { assert } from '../../src/util/assert.js';

/**
 * A generator for one purpose of one seeded run. Consecutive seeds fed straight to
 * mulberry32 start with correlated numbers; hashing seed and purpose first decorrelates
 * them, and keeps each purpose's sequence independent of how much the others draw.
 */
export function simRandom(seed: number, purpose: string): Random {
  return seededRandom(murmur3(Buffer.from(`${purpose}:${seed}`)));
}

/** Simulated time: moves only when the event queue runs. */
export class SimClock implements Clock {
  private currentMs: number;

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  nowMicros(): bigint {
    return BigInt(Math.floor(this.currentMs)) * 1000n;
  }

  monotonicMs(): number {
    return this.currentMs;
  }

  advanceTo(timeMs: number): void {
    assert(timeMs >= this.currentMs, 'simulated time never goes backwards');
    this.currentMs = timeMs;
  }
}

interface SimEvent {
  readonly timeMs: number;
  readonly sequence: number;
  readonly action: () => void;
}

/** A binary min-heap of events by (time, sequence). */
export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private sequence = 0;

  get size(): number {
    return this.heap.length;
  }

  push(timeMs: number, action: () => void): void {
    this.heap.push({ timeMs, sequence: this.sequence++, action });
    let index = this.heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(this.at(index), this.at(parent))) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  peekTimeMs(): number | null {
    return this.heap.length === 0 ? null : this.at(0).timeMs;
  }

  pop(): SimEvent | null {
    if (this.heap.length === 0) return null;
    const top = this.at(0);
    const last = this.heap.pop() as SimEvent;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < this.heap.length && before(this.at(left), this.at(smallest))) smallest = left;
        if (right < this.heap.length && before(this.at(right), this.at(smallest))) {
          smallest = right;
        }
        if (smallest === index) break;
        this.swap(index, smallest);
        index = smallest;
      }
    }
    return top;
  }

  private at(index: number): SimEvent {
    return this.heap[index] as SimEvent;
  }

  private swap(a: number, b: number): void {
    const held = this.at(a);
    this.heap[a] = this.at(b);
    this.heap[b] = held;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.sequence < b.sequence);
}

export interface NetworkFaults {
  /** One-way delay, uniform in [min, max]; a range wider than the send interval reorders. */
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
  /** Probability that a message is lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (the copy with its own delay). */
  readonly duplicateRate: number;
}

export const PERFECT_NETWORK: NetworkFaults = {
  delayMinMs: 1, delayMaxMs: 5, dropRate: 0, duplicateRate: 0,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Lost to a partition (at send time or while in flight). */
  partitioned: number;
}

/**
 * Message delivery between named endpoints. `send` decides the message's fate now (drop,
 * duplicate, delay) and calls `deliver` at delivery time unless a partition separates the
 * endpoints by then. Whether the receiver is running is the caller's business.
 */
export class SimNetwork {
  readonly stats: NetworkStats = {
    sent: 0, delivered: 0, dropped: 0, duplicated: 0, partitioned: 0,
  };
  private readonly queue = new EventQueue();
  /** Directed pairs "from>to" that cannot talk. */
  private readonly blocked = new Set<string>();

  constructor(
    readonly clock: SimClock,
    private readonly random: Random,
    public faults: NetworkFaults,
  ) {
    assert(faults.delayMinMs >= 0 && faults.delayMaxMs >= faults.delayMinMs, 'delay range');
  }

  /** Runs `action` at now + delayMs. */
  schedule(delayMs: number, action: () => void): void {
    assert(delayMs >= 0, 'events are scheduled in the future');
    this.queue.push(this.clock.nowMs() + delayMs, action);
  }

  send(from: string, to: string, deliver: () => void): void {
    this.stats.sent++;
    if (this.isBlocked(from, to)) {
      this.stats.partitioned++;
      return;
    }
    if (this.random.next() < this.faults.dropRate) {
      this.stats.dropped++;
      return;
    }
    const copies = this.random.next() < this.faults.duplicateRate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let copy = 0; copy < copies; copy++) {
      this.schedule(this.delayMs(), () => {
        if (this.isBlocked(from, to)) {
          this.stats.partitioned++;
          return;
        }
        this.stats.delivered++;
        deliver();
      });
    }
  }

  /** Splits the endpoints into groups that cannot reach each other (both directions). */
  partition(groups: readonly (readonly string[])[]): void {
    for (const [groupIndex, group] of groups.entries()) {
      for (const [otherIndex, other] of groups.entries()) {
        if (groupIndex === otherIndex) continue;
        for (const from of group) for (const to of other) this.blocked.add(`${from}>${to}`);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  /** Runs every event due up to and including `timeMs`, then sets the clock to it. */
  runUntil(timeMs: number): void {
    for (;;) {
      const next = this.queue.peekTimeMs();
      if (next === null || next > timeMs) break;
      const event = this.queue.pop() as SimEvent;
      this.clock.advanceTo(event.timeMs);
      event.action();
    }
    this.clock.advanceTo(timeMs);
  }

  private delayMs(): number {
    const { delayMinMs, delayMaxMs } = this.faults;
    return delayMinMs + Math.floor(this.random.next() * (delayMaxMs - delayMinMs + 1));
  }
}
