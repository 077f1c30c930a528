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
import { peerCommands } from './replication/peer-commands.js';
import { ClusterRuntime } from './replication/cluster-runtime.js';
import type { Clock } from './runtime/clock.js';
import type { Random } from './runtime/random.js';
import type { StorageTable } from './storage/engine.js';
import type { LocalStore } from './storage/local-store.js';
import { PeerListener } from './transport/peer-listener.js';

/** Peer requests in flight to one peer at most (beyond: the replica counts as failed). */
const PEER_INFLIGHT_MAX = 10_000;
const PEER_RECONNECT_DELAY_MS = 200;
/** Members gossiped per message at most. */
const GOSSIP_MEMBERS_MAX = 512;

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
      detector: { windowSize: 100, minStdDevMs: interval / 2, expectedIntervalMs: interval,
        acceptablePauseMs: interval },
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

/** Opens the peer port and starts gossiping, once the client port is bound. */
export async function startCluster(runtime: ClusterRuntime, config: Config, store: LocalStore,
    clientPort: number, bulkBytesMax: number, logger: Logger): Promise<PeerListener> {
  const busPort = config.integer('cluster-port') || clientPort + 10000;
  const self = runtime.membership.self;
  self.address = {
    host: self.address.host,
    port: config.integer('cluster-announce-port') || clientPort,
    busPort: config.integer('cluster-announce-bus-port') || busPort,
  };
  const bindHost = config.value('bind').split(/\s+/)[0]?.replace(/^-/, '') ?? '127.0.0.1';
  const listener = new PeerListener({
    host: bindHost === '*' ? '0.0.0.0' : bindHost,
    port: busPort,
    selfId: runtime.selfId,
    cluster: config.value('cluster-name'),
    secret: config.value('cluster-secret'),
    bulkBytesMax,
    handlers: peerCommands({
      store,
      gossip: (message) => runtime.receiveGossip(message),
      onCorruptRecord: (peer) => logger.warn({ peer }, 'peer sent a corrupt record; refused'),
    }),
    logger: logger.child({ component: 'peer-port' }),
  });
  await listener.listen();
  runtime.start();
  logger.info({ busPort, announce: self.address, seeds: config.value('cluster-seeds') },
    'cluster mode: gossiping');
  return listener;
}

export function clusterService(runtime: ClusterRuntime, store: LocalStore,
    clock: Clock): ClusterService {
  const membership = runtime.membership;
  return {
    selfId: runtime.selfId,
    ring: () => runtime.ring(),
    members: () => {
      const nowMs = clock.nowMs();
      return membership.members().map((member) => ({
        id: member.id,
        address: member.address,
        liveness: membership.liveness(member.id, nowMs),
        lastHeartbeatMs: membership.lastHeartbeatMs(member.id) ?? 0,
        incarnation: member.incarnation,
      })).sort((a, b) => (a.id < b.id ? -1 : 1));
    },
    meet: (address) => runtime.meet(address),
    forget: (id) => runtime.forget(id),
    keysInSlot: (slot, count) => store.keysInSlot(slot, count, clock.nowMs()),
    countKeysInSlot: (slot) => {
      let total = 0;
      for (let db = 0; db < DATABASES_COUNT; db++) total += store.keysInSlotCount(db, slot);
      return total;
    },
  };
}
