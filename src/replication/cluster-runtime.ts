/**
 * The I/O shell around the pure cluster logic: runs gossip rounds on a timer over peer
 * links, keeps one PeerClient per member, and rebuilds the ring when membership changes.
 * It is the coordinator's ClusterView.
 */
import type { Logger } from 'pino';
import {
  Membership,
  type GossipMessage,
  type MemberAddress,
  type MemberState,
  type MembershipOptions,
} from '../cluster/membership.js';
import { Ring } from '../cluster/ring.js';
import type { ClusterView } from '../coordinator/cluster-view.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { PeerClient, type PeerClientOptions } from '../transport/peer-client.js';
import { isLoopback } from '../util/addresses.js';

/**
 * Gossip rounds, after a new node first sees other members, during which it still takes
 * every slot it holds for gained (its first gossip replies may name the members a few at a
 * time; each partial ring it saw meanwhile held no data).
 */
const BOOTSTRAP_ROUNDS = 5;

export interface ClusterRuntimeOptions {
  self: MemberState;
  seeds: MemberAddress[];
  replicationFactor: number;
  gossipIntervalMs: number;
  membership: MembershipOptions;
  peer: Omit<PeerClientOptions, 'selfId'>;
  clock: Clock;
  random: Random;
  logger: Logger;
}

export class ClusterRuntime implements ClusterView {
  readonly clusterMode = true;
  readonly membership: Membership;
  private readonly peers = new Map<string, PeerClient>();
  /** Links to contact addresses (seeds, CLUSTER MEET) whose member id is not known yet. */
  private readonly contactLinks = new Map<string, PeerClient>();
  private currentRing: Ring;
  private readonly ringListeners: Array<(previous: Ring, next: Ring) => void> = [];
  private ringVersion = -1;
  private timer: NodeJS.Timeout | null = null;
  /**
   * Joining an existing cluster (see `previousHolders`): undecided until the ring first
   * has other members, then bootstrapping for a few rounds, or done.
   */
  private bootstrap: 'undecided' | 'bootstrapping' | 'done' = 'undecided';
  private bootstrapRoundsLeft = BOOTSTRAP_ROUNDS;
  /** Started with incarnation 1: the first start on this data directory. */
  private readonly firstStart: boolean;

  constructor(private readonly options: ClusterRuntimeOptions) {
    this.firstStart = options.self.incarnation === 1;
    this.membership = new Membership(options.self, options.membership, options.random);
    for (const seed of options.seeds) this.membership.addContact(seed);
    this.currentRing = this.buildRing();
  }

  get selfId(): string {
    return this.options.self.id;
  }

  get gossipIntervalMs(): number {
    return this.options.gossipIntervalMs;
  }

  ring(): Ring {
    if (this.membership.ringVersion !== this.ringVersion) this.currentRing = this.buildRing();
    return this.currentRing;
  }

  isDown(id: string): boolean {
    return this.membership.liveness(id, this.options.clock.monotonicMs()) === 'down';
  }

  peer(id: string): PeerClient | null {
    if (id === this.selfId) return null;
    const member = this.membership.member(id);
    if (member === undefined) return null;
    let client = this.peers.get(id);
    if (client === undefined) {
      client = new PeerClient(id, member.address.host, member.address.busPort,
        { ...this.options.peer, selfId: this.selfId });
      this.peers.set(id, client);
    } else {
      client.setAddress(member.address.host, member.address.busPort);
    }
    return client;
  }

  start(): void {
    this.timer = setInterval(() => this.gossipRound(), this.options.gossipIntervalMs);
    this.timer.unref();
    this.gossipRound();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    for (const client of this.peers.values()) client.close();
    for (const client of this.contactLinks.values()) client.close();
  }

  /** Handles PEER.GOSSIP from a peer: merge, answer with our view (push-pull). */
  receiveGossip(message: GossipMessage): GossipMessage {
    this.merge(message);
    // It just reached us: requests to it should not wait out a backoff from its outage
    // (after a restart, ALL requests failed for up to 2 s while it showed healthy).
    if (typeof message.from === 'string') this.peers.get(message.from)?.retryNow();
    return this.membership.message();
  }

  meet(address: MemberAddress): void {
    this.membership.addContact(address);
    this.gossipWithContact(address);
  }

  forget(id: string): boolean {
    const forgotten = this.membership.forget(id);
    if (forgotten) {
      this.peers.get(id)?.close();
      this.peers.delete(id);
      this.options.logger.info({ node: id }, 'node forgotten');
      this.ring();
    }
    return forgotten;
  }

  private gossipRound(): void {
    if (this.bootstrap === 'bootstrapping' && --this.bootstrapRoundsLeft <= 0) {
      this.bootstrap = 'done';
    }
    const monotonicMs = this.options.clock.monotonicMs();
    for (const client of this.peers.values()) client.checkStalled(monotonicMs);
    for (const client of this.contactLinks.values()) client.checkStalled(monotonicMs);
    const target = this.membership.tick(this.options.clock.monotonicMs());
    if (target === null) return;
    if (target.id === null) {
      this.gossipWithContact(target.address);
      return;
    }
    const client = this.peer(target.id);
    if (client === null) return;
    client.send(['PEER.GOSSIP', JSON.stringify(this.membership.message())], (error, reply) => {
      if (error === null && Buffer.isBuffer(reply)) this.mergeReply(reply);
    });
  }

  private gossipWithContact(address: MemberAddress): void {
    const key = `${address.host}:${address.busPort}`;
    let client = this.contactLinks.get(key);
    if (client === undefined) {
      // An empty expected id: the contact's id is learned from its handshake.
      client = new PeerClient('', address.host, address.busPort,
        { ...this.options.peer, selfId: this.selfId });
      this.contactLinks.set(key, client);
    }
    client.send(['PEER.GOSSIP', JSON.stringify(this.membership.message())], (error, reply) => {
      if (error === null && Buffer.isBuffer(reply)) this.mergeReply(reply);
    });
  }

  private mergeReply(reply: Buffer): void {
    try {
      this.merge(JSON.parse(reply.toString()) as GossipMessage);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'unreadable gossip reply');
    }
  }

  private merge(message: GossipMessage): void {
    if (!isGossipMessage(message)) {
      this.options.logger.warn('malformed gossip message ignored');
      return;
    }
    const changes = this.membership.receive(message, this.options.clock.monotonicMs());
    for (const change of changes) {
      this.options.logger.info({ node: change.id, change: change.change }, 'membership changed');
    }
    // Rebuild the ring now (not at the next request) so slot streaming starts at once.
    this.ring();
  }

  private buildRing(): Ring {
    this.ringVersion = this.membership.ringVersion;
    const ring = new Ring(this.membership.ringMembers(), this.options.replicationFactor);
    this.options.logger.info({ members: ring.members.length, replicas: ring.effectiveReplicas },
      'ring rebuilt');
    const previous = this.currentRing as Ring | undefined;
    if (previous !== undefined) {
      const holders = this.previousHolders(previous, ring);
      for (const listener of this.ringListeners) listener(holders, ring);
    }
    return ring;
  }

  /**
   * The ring that held the data before `next`. Normally the previous ring; but a node
   * joining an existing cluster starts with a ring of itself alone, in which it "held"
   * every slot, so nothing would look gained and it would never pull its share. A node
   * bootstraps (cf. Cassandra's auto_bootstrap, which seeds skip) when it first meets other
   * members on its first start (incarnation 1, an empty data directory) and is not one of
   * its own seeds: for it, the data was held by the ring of the others. Nodes forming a
   * cluster from a common seed list, and restarted nodes, keep their previous ring (for a
   * restart, hints and anti-entropy bring back what it missed).
   */
  private previousHolders(previous: Ring, next: Ring): Ring {
    if (this.bootstrap === 'undecided') {
      const solo = previous.members.length === 1 &&
        (previous.members[0] as { id: string }).id === this.selfId;
      if (!solo || next.members.length < 2) return previous;
      this.bootstrap = this.firstStart && !this.isOwnSeed()
        ? 'bootstrapping' : 'done';
      if (this.bootstrap === 'bootstrapping') {
        this.options.logger.info('joining an existing cluster: pulling every slot held');
      }
    }
    if (this.bootstrap !== 'bootstrapping') return previous;
    return new Ring(next.members.filter((member) => member.id !== this.selfId),
      this.options.replicationFactor);
  }

  /** Whether the seed list names this node (its announced address; loopback is loopback). */
  private isOwnSeed(): boolean {
    const address = this.options.self.address;
    return this.options.seeds.some((seed) => seed.port === address.port &&
      seed.busPort === address.busPort &&
      (seed.host === address.host || (isLoopback(seed.host) && isLoopback(address.host))));
  }

  /** Called with the old and the new ring whenever membership changes the ring. */
  onRingChange(listener: (previous: Ring, next: Ring) => void): void {
    this.ringListeners.push(listener);
  }

  /** A promise-returning call to a member's peer port (repair, streaming, hints). */
  call(id: string): ((args: Array<Buffer | string>) => Promise<unknown>) | null {
    const client = this.peer(id);
    if (client === null) return null;
    return (args) => new Promise((resolve, reject) => {
      client.send(args, (error, reply) => (error === null ? resolve(reply) : reject(error)));
    });
  }

  /** CLUSTER LEAVE: stop holding data; the ring without this node takes over its slots. */
  leave(): void {
    this.membership.setStatus('leaving');
    this.ring();
  }
}

/** Structural check of a gossip message before it touches membership state. */
function isGossipMessage(value: unknown): value is GossipMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as { from?: unknown; members?: unknown };
  if (typeof message.from !== 'string' || !Array.isArray(message.members)) return false;
  return message.members.every((member: unknown) => {
    if (typeof member !== 'object' || member === null) return false;
    const entry = member as Record<string, unknown>;
    const address = entry['address'] as Record<string, unknown> | undefined;
    return typeof entry['id'] === 'string' && /^[0-9a-f]{40}$/.test(entry['id']) &&
      typeof entry['incarnation'] === 'number' && typeof entry['heartbeat'] === 'number' &&
      typeof entry['tokens'] === 'number' && entry['tokens'] >= 1 && entry['tokens'] <= 4096 &&
      typeof entry['rack'] === 'string' &&
      ['joining', 'up', 'leaving', 'removed'].includes(entry['status'] as string) &&
      typeof address === 'object' && address !== null && typeof address['host'] === 'string' &&
      typeof address['port'] === 'number' && typeof address['busPort'] === 'number';
  });
}
