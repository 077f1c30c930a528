/**
 * The cluster half of the composition root (main.ts): builds the cluster runtime, the peer
 * listener and the service the CLUSTER commands use, from the configuration.
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { MemberAddress, MemberState } from './cluster/membership.js';
import type { ClusterService } from './commands/cluster.js';
import type { Config } from './config/config.js';
import { DATABASES_COUNT } from './config/limits.js';
import { parseLevel, type Consistency } from './coordinator/consistency.js';
import { AntiEntropyScheduler, SharedSlots } from './antientropy/scheduler.js';
import { Repairer } from './antientropy/repairer.js';
import type { Coordinator } from './coordinator/coordinator.js';
import { HintStore } from './coordinator/hints.js';
import { peerCommands } from './replication/peer-commands.js';
import { repairCommands } from './replication/repair-commands.js';
import { ClusterRuntime } from './replication/cluster-runtime.js';
import { HintDelivery } from './replication/hint-delivery.js';
import { Streaming } from './replication/streaming.js';
import type { Clock } from './runtime/clock.js';
import { LoadGauge } from './runtime/load-gauge.js';
import type { Random } from './runtime/random.js';
import type { Version } from './versioning/version.js';
import type { StorageTable } from './storage/engine.js';
import type { LocalStore } from './storage/local-store.js';
import { PeerListener } from './transport/peer-listener.js';

/** Peer requests in flight to one peer at most (beyond: the replica counts as failed). */
const PEER_INFLIGHT_MAX = 10_000;
const PEER_RECONNECT_DELAY_MS = 200;
/** Members gossiped per message at most. */
const GOSSIP_MEMBERS_MAX = 512;
/** How often hints are offered to replicas that are back. */
const HINT_DELIVERY_INTERVAL_MS = 1000;
/** Gossip rounds a leaving node keeps gossiping 'removed' before it exits. */
const LEAVE_ANNOUNCE_ROUNDS = 5;

export function clusterModeOf(config: Config): boolean {
  return config.flag('cluster-enabled') || config.value('cluster-seeds') !== '';
}

/** host:port[@busport], separated by commas or spaces (validated by the directive). */
export function parseSeeds(text: string): MemberAddress[] {
  return text.split(/[\s,]+/).filter(Boolean).map((seed) => {
    const match = /^(.+):(\d+)(?:@(\d+))?$/.exec(seed) as RegExpExecArray;
    const port = Number(match[2]);
    return { host: match[1] as string, port, busPort: Number(match[3] ?? port + 10000) };
  });
}

/** The node's incarnation: one more than at its last start, kept in the data directory. */
export function nextIncarnation(meta: StorageTable): number {
  const key = Buffer.from('incarnation');
  const stored = meta.get(key);
  const incarnation = (stored === undefined ? 0 : Number(stored.toString())) + 1;
  meta.put(key, Buffer.from(String(incarnation)));
  return incarnation;
}

export function defaultConsistency(config: Config): Consistency {
  return {
    read: parseLevel(config.value('read-consistency')) ?? 'quorum',
    write: parseLevel(config.value('write-consistency')) ?? 'quorum',
  };
}

/** The address peers and clients reach this node at: announce-ip, else a bind address. */
function announceHost(config: Config): string {
  const announced = config.value('cluster-announce-ip');
  if (announced !== '') return announced;
  const bound = config.value('bind').split(/\s+/).map((entry) => entry.replace(/^-/, ''))
    .find((host) => host !== '' && host !== '::1' && host !== '::');
  if (bound !== undefined && bound !== '0.0.0.0' && bound !== '*') return bound;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (external !== undefined) return external.address;
  }
  return '127.0.0.1';
}

export interface ClusterOptions {
  config: Config;
  nodeId: string;
  incarnation: number;
  clock: Clock;
  random: Random;
  logger: Logger;
}

/** The runtime, before the ports are known (`startCluster` sets the address). */
export function createClusterRuntime(options: ClusterOptions): ClusterRuntime {
  const { config, logger } = options;
  const interval = config.integer('cluster-gossip-interval');
  const self: MemberState = {
    id: options.nodeId,
    address: { host: announceHost(config), port: 0, busPort: 0 },
    rack: config.value('rack'),
    tokens: Math.max(1, Math.round(config.integer('vnodes') * Number(config.value('weight')))),
    incarnation: options.incarnation,
    heartbeat: 0,
    status: 'up',
  };
  if (config.value('cluster-secret') === '') {
    logger.warn('cluster-secret is empty: any node that can reach the peer port can join');
  }
  return new ClusterRuntime({
    self,
    seeds: parseSeeds(config.value('cluster-seeds')),
    replicationFactor: config.integer('replication-factor'),
    gossipIntervalMs: interval,
    membership: {
      phiSuspect: 5,
      phiDown: 8,
      // A pause of three intervals and a floor of a quarter: with one interval and a half,
      // the gossip simulator saw a running node taken for down in about 1 seed in 40.
      detector: { windowSize: 100, minStdDevMs: interval / 4, expectedIntervalMs: interval,
        acceptablePauseMs: interval * 3 },
      membersMax: GOSSIP_MEMBERS_MAX,
    },
    peer: {
      cluster: config.value('cluster-name'),
      secret: config.value('cluster-secret'),
      inflightMax: PEER_INFLIGHT_MAX,
      logger: logger.child({ component: 'peers' }),
      clock: options.clock,
      reconnectDelayMs: PEER_RECONNECT_DELAY_MS,
      // By then every request waiting on the link has failed at its coordinator anyway.
      stallTimeoutMs: config.integer('request-timeout'),
    },
    clock: options.clock,
    random: options.random,
    logger: logger.child({ component: 'cluster' }),
  });
}

/** Hinted handoff, anti-entropy and slot streaming (DESIGN.md section 8). */
export interface FailureHandling {
  hints: HintStore;
  repairer: Repairer;
  scheduler: AntiEntropyScheduler;
  /** How busy the event loop is: periodic anti-entropy defers while it is. */
  load: LoadGauge;
  streaming: Streaming;
  delivery: HintDelivery;
  shared: SharedSlots;
  /** Moves this node's hybrid logical clock past a version stored from a peer. */
  observe: (version: Version) => void;
}

export function createFailureHandling(runtime: ClusterRuntime, hintsTable: StorageTable,
    coordinator: Coordinator, store: LocalStore, config: Config, clock: Clock,
    logger: Logger): FailureHandling {
  const hints = new HintStore(hintsTable, {
    perTargetMax: config.integer('hints-per-node-max'),
    bytesMax: config.integer('hints-bytes-max'),
    ttlMs: config.integer('hint-window') * 1000,
  });
  hints.load();
  coordinator.hints = hints;
  const observe = (version: Version): void => coordinator.observeVersion(version);
  const repairer = new Repairer(store, clock, () => config.integer('repair-bytes-per-second'),
    observe);
  const shared = new SharedSlots(runtime.selfId);
  const repairLogger = logger.child({ component: 'repair' });
  const load = new LoadGauge();
  const scheduler = new AntiEntropyScheduler(repairer, runtime, shared,
    () => config.integer('anti-entropy-interval'), () => config.integer('request-timeout'),
    clock, repairLogger, () => load.utilization);
  const streaming = new Streaming(repairer, runtime, repairLogger, () => scheduler.repairNow());
  const delivery = new HintDelivery(hints, runtime, clock, logger.child({ component: 'hints' }),
    HINT_DELIVERY_INTERVAL_MS);
  runtime.onRingChange((previous, next) => streaming.ringChanged(previous, next));
  return { hints, repairer, scheduler, load, streaming, delivery, shared, observe };
}

/** `prefix_snake_case` INFO fields from a stats object's camelCase counters. */
function statsFields(prefix: string, stats: object): Array<[string, string | number]> {
  return Object.entries(stats).map(([name, value]: [string, unknown]) => [
    prefix + name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
    typeof value === 'boolean' ? (value ? 1 : 0) : value as string | number,
  ]);
}

/** The cluster's INFO fields (the ringkv section). */
export function failureHandlingInfo(parts: FailureHandling): Array<[string, string | number]> {
  const { hints, repairer, scheduler, streaming } = parts;
  return [
    ['hints_pending', hints.pending],
    ['hints_pending_bytes', hints.pendingBytes],
    ...statsFields('hints_', hints.stats),
    ...statsFields('anti_entropy_', scheduler.status),
    ...statsFields('repair_', repairer.stats),
    ...statsFields('streaming_', streaming.progress),
  ];
}

/** Opens the peer port and starts gossiping, once the client port is bound. */
export async function startCluster(runtime: ClusterRuntime, parts: FailureHandling,
    config: Config, store: LocalStore, clock: Clock, clientPort: number,
    bulkBytesMax: number, logger: Logger): Promise<PeerListener> {
  const busPort = config.integer('cluster-port') || clientPort + 10000;
  const self = runtime.membership.self;
  self.address = {
    host: self.address.host,
    port: config.integer('cluster-announce-port') || clientPort,
    busPort: config.integer('cluster-announce-bus-port') || busPort,
  };
  const bindHost = config.value('bind').split(/\s+/)[0]?.replace(/^-/, '') ?? '127.0.0.1';
  const observe = parts.observe;
  const handlers = peerCommands({
    store,
    gossip: (message) => runtime.receiveGossip(message),
    onCorruptRecord: (peer) => logger.warn({ peer }, 'peer sent a corrupt record; refused'),
    observe,
  });
  for (const [name, handler] of repairCommands({
    store,
    sharedWith: (peer) => parts.shared.of(runtime.ring(), peer),
    nowMs: () => clock.nowMs(),
    onStored: (bytes) => {
      parts.repairer.stats.bytesReceived += bytes;
    },
    observe,
  })) handlers.set(name, handler);
  const listener = new PeerListener({
    host: bindHost === '*' ? '0.0.0.0' : bindHost,
    port: busPort,
    selfId: runtime.selfId,
    cluster: config.value('cluster-name'),
    secret: config.value('cluster-secret'),
    bulkBytesMax,
    handlers,
    logger: logger.child({ component: 'peer-port' }),
  });
  await listener.listen();
  runtime.start();
  parts.load.start();
  parts.scheduler.start();
  parts.delivery.start();
  logger.info({ busPort, announce: self.address, seeds: config.value('cluster-seeds') },
    'cluster mode: gossiping');
  return listener;
}

/** Stops the background work of the cluster (shutdown). */
export function stopFailureHandling(parts: FailureHandling): void {
  parts.scheduler.stop();
  parts.load.stop();
  parts.delivery.stop();
}

export interface ClusterServiceParts {
  runtime: ClusterRuntime;
  failure: FailureHandling;
  store: LocalStore;
  clock: Clock;
  logger: Logger;
  /** Stops the node (after CLUSTER LEAVE handed its data off). */
  shutdown(reason: string): void;
}

export function clusterService(parts: ClusterServiceParts): ClusterService {
  const { runtime, store, clock, failure } = parts;
  const membership = runtime.membership;
  let leaving = false;
  return {
    selfId: runtime.selfId,
    ring: () => runtime.ring(),
    members: () => {
      // Membership runs on the monotonic clock; CLUSTER NODES shows Unix milliseconds.
      const monotonicMs = clock.monotonicMs();
      const unixOffsetMs = clock.nowMs() - monotonicMs;
      return membership.members().map((member) => {
        const heartbeat = membership.lastHeartbeatMs(member.id);
        return {
          id: member.id,
          address: member.address,
          liveness: membership.liveness(member.id, monotonicMs),
          lastHeartbeatMs: heartbeat === null ? 0 : Math.round(heartbeat + unixOffsetMs),
          incarnation: member.incarnation,
        };
      }).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    meet: (address) => runtime.meet(address),
    forget: (id) => runtime.forget(id),
    keysInSlot: (slot, count) => store.keysInSlot(slot, count, clock.nowMs()),
    countKeysInSlot: (slot) => {
      let total = 0;
      for (let db = 0; db < DATABASES_COUNT; db++) total += store.keysInSlotCount(db, slot);
      return total;
    },
    repair: () => failure.scheduler.repairNow(),
    leave: () => {
      if (leaving) return false;
      leaving = true;
      const withSelf = runtime.ring();
      runtime.leave();
      void failure.streaming.handOff(withSelf, runtime.ring()).then(async () => {
        // Announce the departure for a few rounds so every member drops this node.
        membership.setStatus('removed');
        const rounds = LEAVE_ANNOUNCE_ROUNDS * runtime.gossipIntervalMs;
        await new Promise((resolve) => setTimeout(resolve, rounds));
        parts.logger.info('left the cluster; stopping');
        parts.shutdown('CLUSTER LEAVE');
      });
      return true;
    },
  };
}
