/**
 * Gossiping nodes on the simulated network. Each node runs the real Membership state
 * machine and is driven the way src/replication/cluster-runtime.ts drives it: every gossip
 * interval `tick(now)` picks a target, the node sends `message()` to it, the target
 * `receive()`s it and answers with its own `message()` (push-pull), which the sender
 * `receive()`s in turn. Messages cross the wire as JSON, as PEER.GOSSIP does.
 */
import {
  Membership,
  type GossipMessage,
  type Liveness,
  type MemberAddress,
  type MemberState,
  type MembershipOptions,
} from '../../src/cluster/membership.js';
import { Ring } from '../../src/cluster/ring.js';
import { seededRandom, type Random } from '../../src/runtime/random.js';
import { assert } from '../../src/util/assert.js';
import { SimClock, SimNetwork, simRandom, type NetworkFaults } from './network.js';

export interface GossipClusterOptions {
  readonly nodeCount: number;
  /** Seed nodes every node is configured with (itself included, as one shared config). */
  readonly seedIndices: readonly number[];
  /** Distinct racks, assigned round-robin; 0 for none. */
  readonly rackCount: number;
  readonly tokens: number;
  readonly replicationFactor: number;
  readonly gossipIntervalMs: number;
  /** Each round fires up to this much late (timer jitter). */
  readonly tickJitterMs: number;
  readonly membership: MembershipOptions;
  readonly faults: NetworkFaults;
}

export class SimNode {
  /** The running process's state; null before the first start. */
  membership: Membership | null = null;
  up = false;
  /** Bumped at every start: replies and timers of an earlier process are discarded. */
  generation = 0;
  /** Persisted across restarts (a node bumps its incarnation at every start). */
  incarnation = 0;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly address: MemberAddress,
    readonly rack: string,
  ) {}

  get state(): Membership {
    assert(this.membership !== null, 'node was started');
    return this.membership;
  }
}

export class GossipCluster {
  readonly clock = new SimClock(0);
  readonly network: SimNetwork;
  readonly nodes: SimNode[] = [];
  private readonly random: Random;
  private readonly ringCache = new Map<string, string[]>();

  constructor(readonly seed: number, readonly options: GossipClusterOptions) {
    this.random = simRandom(seed, 'cluster');
    this.network = new SimNetwork(this.clock, simRandom(seed, 'network'), options.faults);
    for (let index = 0; index < options.nodeCount; index++) {
      const rack = options.rackCount === 0 ? '' : `rack-${index % options.rackCount}`;
      const address = { host: `10.0.0.${index + 1}`, port: 6379, busPort: 16379 };
      this.nodes.push(new SimNode(index, this.nodeId(), address, rack));
    }
  }

  get nowMs(): number {
    return this.clock.nowMs();
  }

  node(index: number): SimNode {
    const node = this.nodes[index];
    assert(node !== undefined, `node ${index} exists`);
    return node;
  }

  /**
   * Starts (or restarts) a node knowing only its seeds, with the next incarnation after the
   * one it persisted at its previous start, or with `incarnation` (a lost data directory).
   */
  start(index: number, incarnation?: number): void {
    const node = this.node(index);
    assert(!node.up, 'node is stopped');
    node.up = true;
    node.generation++;
    node.incarnation = incarnation ?? node.incarnation + 1;
    const self: MemberState = {
      id: node.id, address: { ...node.address }, rack: node.rack, tokens: this.options.tokens,
      incarnation: node.incarnation, heartbeat: 0, status: 'up',
    };
    node.membership = new Membership(self, this.options.membership,
      seededRandom(this.nextSeed()));
    for (const seedIndex of this.options.seedIndices) {
      node.membership.addContact(this.node(seedIndex).address);
    }
    const generation = node.generation;
    const phaseMs = Math.floor(this.random.next() * this.options.gossipIntervalMs);
    this.network.schedule(phaseMs, () => this.gossipRound(node, generation));
  }

  startAll(): void {
    for (const node of this.nodes) this.start(node.index);
  }

  /** Crash: the process and everything in flight to it are gone. */
  crash(index: number): void {
    const node = this.node(index);
    assert(node.up, 'node is running');
    node.up = false;
  }

  runFor(durationMs: number): void {
    this.network.runUntil(this.nowMs + durationMs);
  }

  /**
   * Runs in steps of `stepMs` until `condition` holds; returns the simulated time it took,
   * or null when it did not hold within `limitMs`.
   */
  runUntil(condition: () => boolean, limitMs: number, stepMs = 100): number | null {
    const startMs = this.nowMs;
    for (;;) {
      if (condition()) return this.nowMs - startMs;
      if (this.nowMs - startMs >= limitMs) return null;
      this.runFor(stepMs);
    }
  }

  running(): SimNode[] {
    return this.nodes.filter((node) => node.up);
  }

  liveness(observer: SimNode, subject: SimNode): Liveness {
    return observer.state.liveness(subject.id, this.nowMs);
  }

  /** Sorted ids of the members a node knows (removed ones excluded). */
  memberIds(node: SimNode): string[] {
    return node.state.members().map((member) => member.id).sort();
  }

  /**
   * The node's ring as CLUSTER SLOTS would describe it: ranges with member ids. Rings are
   * cached by the member list exactly as the node hands it over (its own order), so nodes
   * that learned members in different orders still build, and compare, their own rings.
   */
  ringRanges(node: SimNode): string[] {
    const members = node.state.ringMembers();
    const key = JSON.stringify(members);
    let ranges = this.ringCache.get(key);
    if (ranges === undefined) {
      const ring = new Ring(members, this.options.replicationFactor);
      ranges = ring.slotRanges().map((range) => `${range.start}-${range.end}:` +
        range.members.map((member) => ring.members[member]?.id.slice(0, 8)).join(','));
      if (this.ringCache.size >= 64) this.ringCache.clear();
      this.ringCache.set(key, ranges);
    }
    return ranges;
  }

  /** True when every running node knows exactly `expected` (ids) as members. */
  membersAre(expected: readonly SimNode[]): boolean {
    const ids = expected.map((node) => node.id).sort().join();
    return this.running().every((node) => this.memberIds(node).join() === ids);
  }

  /** True when every running node sees every other running node as `liveness`. */
  allSee(observers: readonly SimNode[], subjects: readonly SimNode[], liveness: Liveness): boolean {
    return observers.every((observer) => subjects.every((subject) =>
      observer === subject || this.liveness(observer, subject) === liveness));
  }

  private gossipRound(node: SimNode, generation: number): void {
    if (!node.up || node.generation !== generation) return;
    const jitterMs = Math.floor(this.random.next() * (this.options.tickJitterMs + 1));
    this.network.schedule(this.options.gossipIntervalMs + jitterMs,
      () => this.gossipRound(node, generation));
    const target = node.state.tick(this.nowMs);
    if (target === null) return;
    const peer = this.nodes.find((candidate) =>
      candidate.address.host === target.address.host &&
      candidate.address.busPort === target.address.busPort);
    // A target id that does not match the node at the address is a failed handshake.
    if (peer === undefined || (target.id !== null && target.id !== peer.id)) return;
    const request = wire(node.state.message());
    this.network.send(node.id, peer.id, () => {
      if (!peer.up) return;
      peer.state.receive(request, this.nowMs);
      const reply = wire(peer.state.message());
      this.network.send(peer.id, node.id, () => {
        if (!node.up || node.generation !== generation) return;
        node.state.receive(reply, this.nowMs);
      });
    });
  }

  private nextSeed(): number {
    return Math.floor(this.random.next() * 2 ** 32);
  }

  /** 40 hex digits, like a real node id. */
  private nodeId(): string {
    let id = '';
    for (let part = 0; part < 5; part++) id += this.nextSeed().toString(16).padStart(8, '0');
    return id;
  }
}

/** A message as the peer receives it: serialised, so no object is shared between nodes. */
function wire(message: GossipMessage): GossipMessage {
  return JSON.parse(JSON.stringify(message)) as GossipMessage;
}
