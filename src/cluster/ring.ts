/**
 * The consistent-hash ring (DESIGN.md section 2). Pure: built from the membership list
 * alone, so every node computes the same ring.
 *
 * - Each member owns `tokens` positions on a 32-bit ring, derived from its id
 *   (murmur3 of "<id>:<i>"), so no token assignment is ever exchanged.
 * - Slot s sits at position s * 2^18: slots are spread evenly in slot order. Keys are already
 *   hashed into slots by CRC16, so hashing slots again would add nothing, while keeping them
 *   in order makes consecutive slots share preference lists: CLUSTER SLOTS and NODES then
 *   describe a few hundred ranges instead of up to 16384 (a deviation from DESIGN.md's
 *   hash32(slot), for presentation only; balance and movement are the same).
 * - A slot's preference list is the first N distinct members clockwise from its position,
 *   taking members of racks not yet used first (then the skipped ones, in ring order).
 * - A 16384-entry table slot -> preference list is built once per ring; lookups index it.
 */
import { assert } from '../util/assert.js';
import { murmur3 } from './hash.js';
import { SLOT_COUNT } from './key-slot.js';

export interface RingMember {
  readonly id: string;
  /** Number of tokens (vnodes scaled by weight). */
  readonly tokens: number;
  /** Rack or zone; '' when not configured. */
  readonly rack: string;
}

const SLOT_SPACING = 2 ** 32 / SLOT_COUNT;

export function slotPosition(slot: number): number {
  return slot * SLOT_SPACING;
}

/** The tokens of a member: deterministic from its id. */
export function memberTokens(id: string, count: number): number[] {
  const tokens: number[] = [];
  for (let index = 0; index < count; index++) {
    tokens.push(murmur3(Buffer.from(`${id}:${index}`)));
  }
  return tokens;
}

export interface SlotRange {
  start: number;
  end: number;
  /** Member indices of the range's preference list, coordinator first. */
  members: readonly number[];
}

export class Ring {
  /** Members sorted by id; preference lists hold indices into this array. */
  readonly members: readonly RingMember[];
  /** Requested replication factor, and the one achievable with this many members. */
  readonly replicationFactor: number;
  readonly effectiveReplicas: number;
  private readonly idsBySlot: Array<readonly string[] | undefined> = new Array(SLOT_COUNT);
  private readonly tokenPositions: Uint32Array;
  private readonly tokenOwners: Int32Array;
  private readonly table: Int32Array;

  constructor(members: readonly RingMember[], replicationFactor: number) {
    assert(replicationFactor >= 1, 'replication factor is at least 1');
    this.members = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (let index = 1; index < this.members.length; index++) {
      assert((this.members[index] as RingMember).id !== (this.members[index - 1] as RingMember).id,
        'ring members are unique');
    }
    this.replicationFactor = replicationFactor;
    this.effectiveReplicas = Math.min(replicationFactor, this.members.length);
    const entries: Array<[number, number]> = [];
    this.members.forEach((member, index) => {
      for (const token of memberTokens(member.id, member.tokens)) entries.push([token, index]);
    });
    // Equal tokens (a 32-bit collision) are ordered by member id so every node agrees.
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.tokenPositions = Uint32Array.from(entries.map((entry) => entry[0]));
    this.tokenOwners = Int32Array.from(entries.map((entry) => entry[1]));
    this.table = new Int32Array(SLOT_COUNT * Math.max(1, this.effectiveReplicas)).fill(-1);
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.fillSlot(slot);
  }

  indexOf(id: string): number {
    return this.members.findIndex((member) => member.id === id);
  }

  /** Member indices of the slot's preference list, coordinator (first replica) first. */
  preferenceList(slot: number): number[] {
    const replicas = this.effectiveReplicas;
    const list: number[] = [];
    for (let offset = 0; offset < replicas; offset++) {
      const member = this.table[slot * replicas + offset] as number;
      if (member >= 0) list.push(member);
    }
    return list;
  }

  /**
   * Member ids of the slot's preference list, coordinator first: built once per slot and
   * ring (the coordinator asks for every key it coordinates). Do not modify.
   */
  replicaIds(slot: number): readonly string[] {
    let ids = this.idsBySlot[slot];
    if (ids === undefined) {
      ids = this.preferenceList(slot).map((member) => (this.members[member] as RingMember).id);
      this.idsBySlot[slot] = ids;
    }
    return ids;
  }

  /** The first replica of a slot (-1 for an empty ring). */
  primaryOf(slot: number): number {
    const replicas = this.effectiveReplicas;
    return replicas === 0 ? -1 : (this.table[slot * replicas] as number);
  }

  /** Consecutive slots with identical preference lists, in slot order. */
  slotRanges(): SlotRange[] {
    const ranges: SlotRange[] = [];
    if (this.members.length === 0) return ranges;
    let start = 0;
    let current = this.preferenceList(0);
    for (let slot = 1; slot <= SLOT_COUNT; slot++) {
      const next = slot < SLOT_COUNT ? this.preferenceList(slot) : null;
      if (next === null || !sameList(next, current)) {
        ranges.push({ start, end: slot - 1, members: current });
        if (next !== null) {
          start = slot;
          current = next;
        }
      }
    }
    return ranges;
  }

  /** Sorted token positions of one member. */
  tokensOf(memberIndex: number): number[] {
    const tokens: number[] = [];
    for (let index = 0; index < this.tokenOwners.length; index++) {
      if (this.tokenOwners[index] === memberIndex) {
        tokens.push(this.tokenPositions[index] as number);
      }
    }
    return tokens;
  }

  /** How many slots each member holds as first replica, and as any replica. */
  ownership(): Array<{ primary: number; replica: number }> {
    const counts = this.members.map(() => ({ primary: 0, replica: 0 }));
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const list = this.preferenceList(slot);
      list.forEach((member, position) => {
        const count = counts[member] as { primary: number; replica: number };
        if (position === 0) count.primary++;
        count.replica++;
      });
    }
    return counts;
  }

  private fillSlot(slot: number): void {
    const replicas = this.effectiveReplicas;
    const tokenCount = this.tokenPositions.length;
    if (replicas === 0 || tokenCount === 0) return;
    const chosen: number[] = [];
    const skipped: number[] = [];
    const racks = new Set<string>();
    const seen = new Set<number>();
    let index = firstTokenAtOrAfter(this.tokenPositions, slotPosition(slot));
    for (let step = 0; step < tokenCount && chosen.length < replicas; step++) {
      const owner = this.tokenOwners[(index + step) % tokenCount] as number;
      if (seen.has(owner)) continue;
      seen.add(owner);
      const rack = (this.members[owner] as RingMember).rack;
      if (racks.has(rack)) {
        skipped.push(owner);
      } else {
        racks.add(rack);
        chosen.push(owner);
      }
      if (seen.size === this.members.length) break;
    }
    for (const owner of skipped) {
      if (chosen.length >= replicas) break;
      chosen.push(owner);
    }
    assert(chosen.length === replicas, 'preference list has N distinct members');
    for (let offset = 0; offset < replicas; offset++) {
      this.table[slot * replicas + offset] = chosen[offset] as number;
    }
  }
}

function firstTokenAtOrAfter(tokens: Uint32Array, position: number): number {
  let low = 0;
  let high = tokens.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((tokens[middle] as number) < position) low = middle + 1;
    else high = middle;
  }
  return low === tokens.length ? 0 : low;
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}
