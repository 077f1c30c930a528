/**
 * Cluster membership by gossip (DESIGN.md section 7). Pure and tick-driven: the shell calls
 * `tick(nowMs)` every gossip interval and sends the returned message to the returned
 * target, and calls `receive(message, nowMs)` for every gossip message that arrives.
 *
 * Each node gossips what it knows of every member: address, rack, tokens, incarnation,
 * heartbeat and self-declared status. A newer (incarnation, heartbeat) replaces an older
 * one. A node bumps its incarnation at every start and to refute news of its removal, so
 * its own word always wins. Liveness (alive / suspect / down) is each node's local opinion
 * from a phi-accrual detector fed by heartbeat increases; it is not gossiped.
 */
import type { Random } from '../runtime/random.js';
import { PhiAccrualDetector, type FailureDetectorOptions } from './failure-detector.js';
import type { RingMember } from './ring.js';

export type MemberStatus = 'joining' | 'up' | 'leaving' | 'removed';
export type Liveness = 'alive' | 'suspect' | 'down';

export interface MemberAddress {
  readonly host: string;
  /** Client port (what CLUSTER SLOTS reports). */
  readonly port: number;
  /** Peer port. */
  readonly busPort: number;
}

export interface MemberState {
  id: string;
  address: MemberAddress;
  rack: string;
  tokens: number;
  incarnation: number;
  heartbeat: number;
  status: MemberStatus;
}

export interface GossipMessage {
  from: string;
  members: MemberState[];
}

export interface MembershipOptions {
  readonly phiSuspect: number;
  readonly phiDown: number;
  readonly detector: FailureDetectorOptions;
  /** Members at most this many at once are told about in one message. */
  readonly membersMax: number;
}

export interface GossipTarget {
  /** Member id, or null for a contact address whose id is not known yet. */
  id: string | null;
  address: MemberAddress;
}

export interface MembershipChange {
  id: string;
  change: 'joined' | 'updated' | 'removed' | 'refuted';
}

export class Membership {
  private readonly states = new Map<string, MemberState>();
  private readonly detectors = new Map<string, PhiAccrualDetector>();
  /** Addresses to gossip with whose member id is unknown (seeds, CLUSTER MEET). */
  private readonly contacts: MemberAddress[] = [];
  /** Bumped whenever something the ring depends on changed (members, tokens, racks). */
  ringVersion = 0;

  constructor(
    private readonly selfState: MemberState,
    private readonly options: MembershipOptions,
    private readonly random: Random,
  ) {
    this.states.set(selfState.id, selfState);
  }

  get self(): MemberState {
    return this.selfState;
  }

  /** Every known member that is not removed, this node included. */
  members(): MemberState[] {
    return [...this.states.values()].filter((member) => member.status !== 'removed');
  }

  member(id: string): MemberState | undefined {
    const member = this.states.get(id);
    return member === undefined || member.status === 'removed' ? undefined : member;
  }

  /** Members that hold data: not removed and not leaving (a leaving node hands off). */
  ringMembers(): RingMember[] {
    return this.members().filter((member) => member.status !== 'leaving').map((member) => ({
      id: member.id,
      tokens: member.tokens,
      rack: member.rack,
    }));
  }

  liveness(id: string, nowMs: number): Liveness {
    if (id === this.selfState.id) return 'alive';
    const detector = this.detectors.get(id);
    if (detector === undefined) return 'down';
    const phi = detector.phi(nowMs);
    if (phi >= this.options.phiDown) return 'down';
    if (phi >= this.options.phiSuspect) return 'suspect';
    return 'alive';
  }

  /** Milliseconds since the member's heartbeat last advanced (CLUSTER NODES pong time). */
  lastHeartbeatMs(id: string): number | null {
    return this.detectors.get(id)?.lastHeartbeatMs ?? null;
  }

  addContact(address: MemberAddress): void {
    const known = this.contacts.some((contact) =>
      contact.host === address.host && contact.busPort === address.busPort);
    if (!known) this.contacts.push(address);
  }

  setStatus(status: MemberStatus): void {
    this.selfState.status = status;
    this.selfState.heartbeat++;
    this.ringVersion++;
  }

  /** CLUSTER FORGET: marks a member removed, overriding its last word (incarnation + 1). */
  forget(id: string): boolean {
    const member = this.states.get(id);
    if (member === undefined || id === this.selfState.id || member.status === 'removed') {
      return false;
    }
    member.incarnation++;
    member.status = 'removed';
    this.detectors.delete(id);
    this.ringVersion++;
    return true;
  }

  /** One gossip round: advance our heartbeat and pick whom to gossip with. */
  tick(nowMs: number): GossipTarget | null {
    this.selfState.heartbeat++;
    const others = this.members().filter((member) => member.id !== this.selfState.id);
    const live = others.filter((member) => this.liveness(member.id, nowMs) !== 'down');
    const down = others.filter((member) => this.liveness(member.id, nowMs) === 'down');
    // Mostly live members; sometimes a down one (to notice it is back) or a contact (to
    // rejoin a cluster we lost contact with, or to reach a seed we never met).
    const roll = this.random.next();
    // With no live member, contacts get only half the rounds: they may be unreachable too
    // (the other side of a partition, a seed that is gone), and trying only them, two
    // nodes that both saw everyone down never tried each other again.
    const contactShare = live.length > 0 ? 0.1 : down.length > 0 ? 0.5 : 1;
    if (this.contacts.length > 0 && roll < contactShare) {
      const contact = this.pick(this.contacts);
      return { id: null, address: contact };
    }
    const pool = down.length > 0 && (live.length === 0 || roll < 0.2) ? down : live;
    if (pool.length === 0) return null;
    const target = this.pick(pool);
    return { id: target.id, address: target.address };
  }

  message(): GossipMessage {
    const members = [...this.states.values()];
    const limited = members.length <= this.options.membersMax ? members
      : [this.selfState, ...members.filter((member) => member !== this.selfState)
        .sort(() => this.random.next() - 0.5).slice(0, this.options.membersMax - 1)];
    return { from: this.selfState.id, members: limited.map((member) => ({ ...member })) };
  }

  receive(message: GossipMessage, nowMs: number): MembershipChange[] {
    const changes: MembershipChange[] = [];
    for (const entry of message.members) {
      const change = entry.id === this.selfState.id ? this.refute(entry)
        : this.merge(entry, nowMs);
      if (change !== null) changes.push(change);
    }
    return changes;
  }

  private merge(entry: MemberState, nowMs: number): MembershipChange | null {
    const local = this.states.get(entry.id);
    if (local === undefined) {
      this.states.set(entry.id, { ...entry, address: { ...entry.address } });
      if (entry.status === 'removed') return null;
      this.detectorOf(entry.id).heartbeat(nowMs);
      this.ringVersion++;
      return { id: entry.id, change: 'joined' };
    }
    if (!isNewer(entry, local)) return null;
    const ringChanged = local.tokens !== entry.tokens || local.rack !== entry.rack ||
      (local.status === 'removed') !== (entry.status === 'removed') ||
      (local.status === 'leaving') !== (entry.status === 'leaving');
    const heartbeatAdvanced = entry.incarnation > local.incarnation ||
      entry.heartbeat > local.heartbeat;
    const wasRemoved = local.status === 'removed';
    Object.assign(local, entry, { address: { ...entry.address } });
    if (ringChanged) this.ringVersion++;
    if (entry.status === 'removed') {
      this.detectors.delete(entry.id);
      // A newer word on a member already removed here (two nodes forgot it) is no change.
      return wasRemoved ? null : { id: entry.id, change: 'removed' };
    }
    if (heartbeatAdvanced) {
      // Back after being down (restart, healed partition): the silence was an outage, not
      // its heartbeat rhythm. Recorded as an interval it would inflate the mean and
      // deviation so much that its next failure took minutes to detect instead of seconds
      // (test/sim/gossip.test.ts), so it starts over with a fresh detector.
      if (this.liveness(entry.id, nowMs) === 'down') this.detectors.delete(entry.id);
      this.detectorOf(entry.id).heartbeat(nowMs);
    }
    return ringChanged ? { id: entry.id, change: 'updated' } : null;
  }

  /** News about ourselves: if anyone has a newer incarnation of us, outbid it. */
  private refute(entry: MemberState): MembershipChange | null {
    const self = this.selfState;
    if (entry.incarnation < self.incarnation) return null;
    // A heartbeat ahead of ours at our incarnation comes from an earlier run of this node
    // that used the same incarnation (identity not persisted, data directory lost). Not
    // outbid, peers would ignore our heartbeats, and see us down, until ours caught up.
    if (entry.incarnation === self.incarnation && entry.status === self.status &&
        entry.heartbeat <= self.heartbeat) {
      return null;
    }
    self.incarnation = entry.incarnation + 1;
    self.heartbeat++;
    return { id: self.id, change: 'refuted' };
  }

  private detectorOf(id: string): PhiAccrualDetector {
    let detector = this.detectors.get(id);
    if (detector === undefined) {
      detector = new PhiAccrualDetector(this.options.detector);
      this.detectors.set(id, detector);
    }
    return detector;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random.next() * items.length)] as T;
  }
}

function isNewer(entry: MemberState, local: MemberState): boolean {
  if (entry.incarnation !== local.incarnation) return entry.incarnation > local.incarnation;
  if (entry.heartbeat !== local.heartbeat) return entry.heartbeat > local.heartbeat;
  // Same incarnation and heartbeat: removal (by CLUSTER FORGET elsewhere) wins.
  return entry.status === 'removed' && local.status !== 'removed';
}
