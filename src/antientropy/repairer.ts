/**
 * Moves records between two replicas over the peer link: a Merkle exchange (compare block
 * hashes, open differing blocks, repair differing slots) for anti-entropy, and whole-slot
 * repairs for streaming when membership changes. Only differing records move; every
 * record is applied with last-write-wins, so running the same repair twice is harmless.
 * Throttled by a byte budget per second so client traffic keeps its latency.
 */
import type { LocalStore } from '../storage/local-store.js';
import { StoredRecord, recordProblem } from '../storage/record.js';
import type { Clock } from '../runtime/clock.js';
import type { Version } from '../versioning/version.js';
import {
  blockHashes,
  blockSlots,
  decodeSummaries,
  differingEntries,
  planSlotRepair,
  slotDigests,
  type EntrySummary,
} from './merkle.js';

export type PeerCall = (args: Array<Buffer | string>) => Promise<unknown>;

export interface RepairStats {
  exchanges: number;
  slotsCompared: number;
  slotsRepaired: number;
  keysPulled: number;
  keysPushed: number;
  /** Record bytes moved (pulled and pushed). */
  bytesMoved: number;
  /** Bytes of Merkle block hashes, slot digests and key summaries received. */
  summaryBytes: number;
  /** Record bytes peers pushed to this node (PEER.PUTSTORED: their repairs, hand-offs). */
  bytesReceived: number;
  failures: number;
}

export type RepairDirection = 'both' | 'pull' | 'push';

/** Thrown by an exchange that stopped to give way to client traffic (see `exchange`). */
export class PassDeferred extends Error {
  constructor() {
    super('anti-entropy exchange deferred: the node is busy');
  }
}

const SLOT_KEYS_PAGE = 1024;
const FETCH_BATCH = 256;
/**
 * Differing slots of one block repaired at once: each slot costs a few round trips, so one
 * at a time a pass over many small differences was bound by latency, not by the budget.
 */
const SLOTS_IN_FLIGHT = 8;

export class Repairer {
  readonly stats: RepairStats = { exchanges: 0, slotsCompared: 0, slotsRepaired: 0,
    keysPulled: 0, keysPushed: 0, bytesMoved: 0, summaryBytes: 0, bytesReceived: 0,
    failures: 0 };
  private budgetWindowStartMs = 0;
  private budgetUsed = 0;

  constructor(
    private readonly store: LocalStore,
    private readonly clock: Clock,
    /** Bytes per second repair may move (both directions). */
    private readonly bytesPerSecond: () => number,
    /** Moves this node's clock past versions it pulls (hybrid logical clock). */
    private readonly observe: (version: Version) => void,
  ) {}

  /**
   * Compares the slots this node and the peer both replicate and repairs the differing
   * ones. Returns the number of slots repaired. `settledBeforeMs`: see planSlotRepair.
   * `yieldNow`, asked before each block and each page of summaries, stops the exchange
   * with PassDeferred when it says so (what was repaired so far stays repaired).
   */
  async exchange(call: PeerCall, shared: (slot: number) => boolean,
      settledBeforeMs: number | null = null, yieldNow: (() => boolean) | null = null):
      Promise<number> {
    this.stats.exchanges++;
    const remoteBlocks = this.summary(await call(['PEER.BLOCKS']));
    const blocks = differingEntries(blockHashes(this.store, shared), remoteBlocks);
    let repaired = 0;
    for (const block of blocks) {
      giveWayIfAsked(yieldNow);
      const slots = blockSlots(block);
      const remote = this.summary(await call(['PEER.SLOTDIGESTS', String(block)]));
      const local = slotDigests(this.store, slots, shared);
      this.stats.slotsCompared += slots.length;
      const differing = differingEntries(local, remote).map((index) => slots[index] as number)
        .filter((slot) => shared(slot));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < differing.length) {
          await this.repairSlot(call, differing[next++] as number, 'both', settledBeforeMs,
            yieldNow);
        }
      };
      await Promise.all(Array.from({ length: Math.min(SLOTS_IN_FLIGHT, differing.length) },
        worker));
      repaired += differing.length;
    }
    return repaired;
  }

  private summary(reply: unknown): Uint32Array {
    const values = toUint32(reply);
    this.stats.summaryBytes += values.length * 4;
    return values;
  }

  /**
   * Makes one slot identical on both sides (or copies it one way), but for differences in
   * records written at or after `settledBeforeMs` (see planSlotRepair).
   */
  async repairSlot(call: PeerCall, slot: number, direction: RepairDirection,
      settledBeforeMs: number | null = null, yieldNow: (() => boolean) | null = null):
      Promise<void> {
    const remote = await this.remoteSummaries(call, slot, yieldNow);
    const local = await this.localSummaries(slot, yieldNow);
    const plan = planSlotRepair(local, remote, settledBeforeMs);
    if (direction !== 'push') await this.pull(call, plan.pull);
    if (direction !== 'pull') await this.push(call, plan.push);
    if (plan.pull.length + plan.push.length > 0) this.stats.slotsRepaired++;
  }

  private async remoteSummaries(call: PeerCall, slot: number,
      yieldNow: (() => boolean) | null): Promise<EntrySummary[]> {
    const all: EntrySummary[] = [];
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      giveWayIfAsked(yieldNow);
      const reply = await call(['PEER.SLOTKEYS', String(slot), after, String(SLOT_KEYS_PAGE)]);
      if (!Array.isArray(reply) || reply.length !== 2 || !Buffer.isBuffer(reply[0]) ||
          !Buffer.isBuffer(reply[1])) {
        throw new Error('malformed PEER.SLOTKEYS reply');
      }
      const page = decodeSummaries(reply[1] as Buffer);
      if (page === null) throw new Error('malformed slot summaries');
      for (const entry of page) all.push(entry);
      this.stats.summaryBytes += (reply[1] as Buffer).length;
      await this.throttle((reply[1] as Buffer).length);
      // An empty cursor: the peer's page reached the end of the slot.
      after = reply[0] as Buffer;
      if (after.length === 0) break;
    }
    return all;
  }

  /**
   * This node's summaries of a slot, a page at a time with the event loop running between
   * pages: a slot holding one hash tag's 100k keys takes ~100 pages, and read in one go
   * they held the event loop long enough for peers to give up on this node's links.
   */
  private async localSummaries(slot: number, yieldNow: (() => boolean) | null):
      Promise<EntrySummary[]> {
    const summaries: EntrySummary[] = [];
    let after: Buffer | null = null;
    for (;;) {
      giveWayIfAsked(yieldNow);
      const nowMs = this.clock.nowMs();
      const page = this.store.slotEntries(slot, after, SLOT_KEYS_PAGE);
      for (const [stored, record] of page.entries) {
        if (record.tombstone && record.expireAtMs <= nowMs) continue;
        summaries.push({ stored, version: record.version });
      }
      if (page.next === null) return summaries;
      after = page.next;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async pull(call: PeerCall, keys: Buffer[]): Promise<void> {
    for (let start = 0; start < keys.length; start += FETCH_BATCH) {
      const batch = keys.slice(start, start + FETCH_BATCH);
      const reply = await call(['PEER.GETSTORED', ...batch]);
      if (!Array.isArray(reply) || reply.length !== batch.length) {
        throw new Error('malformed PEER.GETSTORED reply');
      }
      let bytes = 0;
      batch.forEach((stored, index) => {
        const value = reply[index] as unknown;
        if (!Buffer.isBuffer(value) || recordProblem(value) !== null) return;
        bytes += value.length;
        const record = new StoredRecord(value);
        this.observe(record);
        if (this.store.writeStoredIfNewer(stored, record)) this.stats.keysPulled++;
      });
      this.stats.bytesMoved += bytes;
      await this.throttle(bytes);
    }
  }

  private async push(call: PeerCall, keys: Buffer[]): Promise<void> {
    const pending: Array<Promise<unknown>> = [];
    let bytes = 0;
    for (const stored of keys) {
      const record = this.store.readStored(stored);
      if (record === undefined) continue;
      pending.push(call(['PEER.PUTSTORED', stored, record.bytes]));
      bytes += record.bytes.length;
      this.stats.keysPushed++;
      if (pending.length >= FETCH_BATCH) {
        await Promise.all(pending.splice(0));
        await this.throttle(bytes);
        this.stats.bytesMoved += bytes;
        bytes = 0;
      }
    }
    await Promise.all(pending);
    this.stats.bytesMoved += bytes;
    await this.throttle(bytes);
  }

  /** Waits when this second's byte budget is spent. */
  private async throttle(bytes: number): Promise<void> {
    const nowMs = this.clock.monotonicMs();
    if (nowMs - this.budgetWindowStartMs >= 1000) {
      this.budgetWindowStartMs = nowMs;
      this.budgetUsed = 0;
    }
    this.budgetUsed += bytes;
    const budget = this.bytesPerSecond();
    if (budget > 0 && this.budgetUsed > budget) {
      const waitMs = 1000 - (nowMs - this.budgetWindowStartMs);
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Stops an exchange (PassDeferred) when `yieldNow` says the node is wanted elsewhere. */
function giveWayIfAsked(yieldNow: (() => boolean) | null): void {
  if (yieldNow?.() === true) throw new PassDeferred();
}

function toUint32(reply: unknown): Uint32Array {
  if (!Buffer.isBuffer(reply) || reply.length % 4 !== 0) {
    throw new Error('malformed digest reply');
  }
  const values = new Uint32Array(reply.length / 4);
  for (let index = 0; index < values.length; index++) values[index] = reply.readUInt32BE(index * 4);
  return values;
}
