/**
 * Composition root (STYLE.md section 2): reads the configuration, builds the concrete parts
 * (LMDB engine, listeners, clock), wires them and starts the node. Nothing else constructs
 * I/O objects.
 */
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { CommandRegistry } from './commands/table.js';
import type { ServerContext } from './commands/context.js';
import { setStringLimits } from './commands/strings.js';
import { Config, ConfigError } from './config/config.js';
import { defaultLimits, type Limits } from './config/limits.js';
import {
  clusterModeOf,
  clusterService,
  createClusterRuntime,
  createFailureHandling,
  failureHandlingInfo,
  defaultConsistency,
  nextIncarnation,
  startCluster,
  stopFailureHandling,
} from './compose-cluster.js';
import { standaloneView } from './coordinator/cluster-view.js';
import { Coordinator } from './coordinator/coordinator.js';
import { Info, RINGKV_VERSION } from './observability/info.js';
import { createLogger, pinoLevel } from './observability/logger.js';
import { SlowLog } from './observability/slowlog.js';
import { Stats } from './observability/stats.js';
import { systemClock } from './runtime/clock.js';
import { systemRandom } from './runtime/random.js';
import { ClientListener } from './server/client-listener.js';
import { Lifecycle } from './server/lifecycle.js';
import { PROTECTED_MODE_DENIED, Users } from './server/security.js';
import { isLoopback } from './util/addresses.js';
import type { Durability } from './storage/engine.js';
import { LmdbEngine } from './storage/lmdb-engine.js';
import { LocalStore } from './storage/local-store.js';
import { loadNodeIdentity } from './storage/node-identity.js';

/** The Redis version whose commands and replies we reproduce. */
const REDIS_COMPAT_VERSION = '7.0.15';
/** Distributed operations in flight at most (each a table entry; beyond it, TRYAGAIN). */
const INFLIGHT_OPERATIONS_MAX = 10_000;
/** Keys the active expiry cycle removes per tick at most (bounds the tick's work). */
const EXPIRE_PER_TICK_MAX = 2000;

function usage(): string {
  return [
    `RingKV ${RINGKV_VERSION}: a Redis-protocol server on a Dynamo-style store.`,
    'Usage: ringkv-server [/path/to/ringkv.conf] [--name value ...]',
    '       ringkv-server --version | --help',
    'Settings use redis.conf names (port, bind, dir, requirepass, appendfsync, ...), from a',
    'config file, RINGKV_<NAME> environment variables, then --name value flags.',
  ].join('\n');
}

function loadConfig(argv: readonly string[]): Config {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  if (argv.includes('--version') || argv.includes('-v')) {
    process.stdout.write(`RingKV ${RINGKV_VERSION} (Redis ${REDIS_COMPAT_VERSION} compatible)\n`);
    process.exit(0);
  }
  try {
    return Config.load(argv, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ringkv-server: configuration error: ${error.message}\n`);
    process.exit(1);
  }
}

/** Users from `user` / `user-consistency` lines; a bad line stops the node like loadConfig. */
function loadUsers(config: Config, commands: CommandRegistry): Users {
  try {
    return Users.fromConfig(config, commands,
      clusterModeOf(config) ? config.integer('replication-factor') : 1);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ringkv-server: configuration error: ${error.message}\n`);
    process.exit(1);
  }
}

/** Keeps `settings[field]` equal to directive `name` as CONFIG SET changes it. */
function follow<Settings, Field extends keyof Settings>(config: Config, settings: Settings,
    field: Field, name: string, parse: (value: string) => Settings[Field]): void {
  config.onChange(name, (value) => {
    settings[field] = parse(value);
  });
}

function limitsFrom(config: Config): Limits {
  const limits = defaultLimits();
  const apply = (): void => {
    limits.bulkBytesMax = config.integer('proto-max-bulk-len');
    limits.queryBufferBytesMax = config.integer('client-query-buffer-limit');
    limits.clientsMax = config.integer('maxclients');
  };
  apply();
  for (const name of ['proto-max-bulk-len', 'client-query-buffer-limit', 'maxclients']) {
    config.onChange(name, apply);
  }
  return limits;
}

/** Addresses from `bind`; a leading '-' marks one that may be unavailable. */
function bindAddresses(config: Config): Array<{ host: string; optional: boolean }> {
  return config.value('bind').split(/\s+/).filter(Boolean).map((entry) => ({
    host: entry.startsWith('-') ? entry.slice(1) : entry,
    optional: entry.startsWith('-'),
  }));
}

/** Gossip rounds to wait before a node with a replaced disk starts repairing. */
const REPLACED_DISK_REPAIR_ROUNDS = 10;

async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2));
  const commands = new CommandRegistry();
  const auth = loadUsers(config, commands);
  const { logger, destination } = createLogger(pinoLevel(config.value('loglevel')),
    config.value('logfile'));
  config.onChange('loglevel', (level) => {
    logger.level = pinoLevel(level);
  });
  const clock = systemClock;
  const limits = limitsFrom(config);
  setStringLimits(limits);

  const dir = config.value('dir');
  mkdirSync(dir, { recursive: true });
  const engine = new LmdbEngine({
    dir,
    durability: config.value('appendfsync') as Durability,
    logger: logger.child({ component: 'storage' }),
  });
  await engine.open();
  config.onChange('appendfsync', (value) => engine.setDurability(value as Durability));
  const identity = loadNodeIdentity(engine.table('meta'), config.value('cluster-node-id'));
  const clusterMode = clusterModeOf(config);
  // Slot digests serve anti-entropy between replicas: a standalone node keeps none.
  const store = new LocalStore(engine, logger.child({ component: 'store' }), clusterMode);
  const runtime = clusterMode ? createClusterRuntime({ config, nodeId: identity.nodeId,
    incarnation: nextIncarnation(engine.table('meta')), clock, random: systemRandom,
    logger }) : null;
  const tombstoneGraceMs = config.integer('tombstone-grace') * 1000;
  const coordinatorSettings = {
    requestTimeoutMs: config.integer('request-timeout'),
    tombstoneGraceMs,
    inflightMax: INFLIGHT_OPERATIONS_MAX,
    hintedHandoff: config.flag('hinted-handoff'),
    sloppyQuorum: config.flag('sloppy-quorum'),
    readRepairPercent: config.integer('read-repair-chance'),
    speculativeRetryMs: config.integer('speculative-retry'),
  };
  const flag = (value: string): boolean => value === 'yes';
  follow(config, coordinatorSettings, 'readRepairPercent', 'read-repair-chance', Number);
  follow(config, coordinatorSettings, 'speculativeRetryMs', 'speculative-retry', Number);
  follow(config, coordinatorSettings, 'hintedHandoff', 'hinted-handoff', flag);
  follow(config, coordinatorSettings, 'sloppyQuorum', 'sloppy-quorum', flag);
  follow(config, coordinatorSettings, 'requestTimeoutMs', 'request-timeout', Number);
  const coordinator = new Coordinator(store, clock, systemRandom, identity.nodeTag,
    runtime ?? standaloneView(identity.nodeId), coordinatorSettings);
  coordinator.start();
  const failure = runtime === null ? null : createFailureHandling(runtime, engine.table('hints'),
    coordinator, store, config, clock, logger);

  const stats = new Stats(clock.nowMs());
  stats.onReset(() => auth.resetDenials());
  stats.onReset(() => {
    coordinator.stats.keyspaceHits = 0;
    coordinator.stats.keyspaceMisses = 0;
    coordinator.stats.expiredKeys = 0;
    store.expiredKeys = 0;
  });
  const slowlogSettings = {
    thresholdUs: config.integer('slowlog-log-slower-than'),
    maxLength: config.integer('slowlog-max-len'),
  };
  follow(config, slowlogSettings, 'thresholdUs', 'slowlog-log-slower-than', Number);
  follow(config, slowlogSettings, 'maxLength', 'slowlog-max-len', Number);
  const slowlog = new SlowLog(slowlogSettings, () => clock.nowMs());
  const bind = bindAddresses(config);
  const listener = new ClientListener({
    host: bind.map((entry) => entry.host),
    optionalHosts: bind.filter((entry) => entry.optional).map((entry) => entry.host),
    port: config.integer('port'),
    backlog: config.integer('tcp-backlog'),
    limits,
    logger: logger.child({ component: 'clients' }),
    isLoading: () => store.loading,
    recordError: (prefix) => stats.recordError(prefix),
    refusal: (socket: Socket) => config.flag('protected-mode') && auth.defaultUserNoPass &&
      !isLoopback(socket.remoteAddress) ? PROTECTED_MODE_DENIED : null,
    keepAliveSeconds: () => config.integer('tcp-keepalive'),
  });

  const background: Array<() => void> = [];
  const lifecycle = new Lifecycle({
    clock,
    logger,
    writesCount: () => store.writesCount,
    flushStorage: () => engine.flush(),
    closeStorage: () => engine.close(),
    stopAccepting: () => listener.stopAccepting(),
    hasPendingReplies: () => listener.hasPendingReplies,
    closeClients: () => listener.closeAll(),
    stopBackgroundWork: () => {
      for (const stop of background) stop();
      listener.stopReading();
    },
    flushLogs: () => destination.flushSync?.(),
    exit: (code) => process.exit(code),
  });

  const runId = randomBytes(20).toString('hex');
  const serverIdentity = { redisVersion: REDIS_COMPAT_VERSION, runId,
    mode: clusterMode ? 'cluster' as const : 'standalone' as const };
  const info = new Info({
    identity: serverIdentity,
    config,
    stats,
    clients: listener,
    executable: process.argv[1] ?? '',
    tcpPort: () => listener.boundPort,
    loading: () => store.loading,
    keyspace: (db) => store.countsOf(db),
    keyspaceHits: () => coordinator.stats.keyspaceHits,
    keyspaceMisses: () => coordinator.stats.keyspaceMisses,
    expiredKeys: () => coordinator.stats.expiredKeys + store.expiredKeys,
    changesSinceSave: () => lifecycle.changesSinceSave,
    lastSaveUnixSeconds: () => lifecycle.lastSaveUnixSeconds,
    bgsaveInProgress: () => lifecycle.bgsaveInProgress,
    storageBytes: () => engine.sizeBytes(),
    ringkv: () => [
      ['node_id', identity.nodeId],
      ['storage_corrupt_records', store.corruptRecords],
      ['storage_pending_writes', engine.pendingWrites],
      ['storage_cache_entries', engine.recordCache.size],
      ['storage_cache_used_bytes', engine.recordCache.usedBytes],
      ['storage_cache_hits', engine.recordCache.hits],
      ['storage_cache_misses', engine.recordCache.misses],
      ['storage_cache_evicted_pending', engine.evictedWrites],
      ['storage_key_filter_bytes', engine.keyFilterBytes],
      ['storage_key_filter_skips', engine.keyFilterSkips],
      ['write_error', store.writeFailure === null ? 'none' : store.writeFailure.message],
      ['cluster_members', runtime === null ? 1 : runtime.membership.members().length],
      ['cluster_replication_factor', runtime === null ? 1 : runtime.ring().replicationFactor],
      ['coordinator_inflight', coordinator.inflightCount],
      ['read_repairs', coordinator.stats.readRepairs],
      ...(failure === null ? [] : failureHandlingInfo(failure)),
    ],
    clusterEnabled: () => clusterMode,
    nowMs: () => clock.nowMs(),
    aclDenials: () => auth.denials,
  });

  const context: ServerContext = {
    kv: coordinator,
    logger: logger.child({ component: 'commands' }),
    clock,
    config,
    clients: listener,
    stats,
    info,
    slowlog,
    persistence: lifecycle,
    auth,
    commands,
    identity: serverIdentity,
    defaultConsistency: (user) => auth.consistencyFor(user ?? 'default',
      clusterMode ? defaultConsistency(config) : { read: 'one', write: 'one' }),
    replicationFactor: () => (clusterMode ? config.integer('replication-factor') : 1),
    cluster: runtime === null || failure === null ? null : clusterService({ runtime, failure,
      store, clock, logger, shutdown: (reason) => lifecycle.shutdown(reason) }),
  };

  await listener.listen(context);
  if (runtime !== null && failure !== null) {
    const peerListener = await startCluster(runtime, failure, config, store, clock,
      listener.boundPort, limits.bulkBytesMax, logger);
    if (identity.fresh && config.value('cluster-node-id') !== '') {
      // An empty directory under a known id is a replaced disk: pull every shared slot back
      // once gossip has had time to rebuild the ring, rather than at the periodic pace.
      const delayMs = REPLACED_DISK_REPAIR_ROUNDS * config.integer('cluster-gossip-interval');
      setTimeout(() => failure.scheduler.repairNow(), delayMs).unref();
      logger.warn({ nodeId: identity.nodeId }, 'empty data directory under a configured node ' +
        'id: repairing from the other replicas');
    }
    background.push(() => {
      stopFailureHandling(failure);
      runtime.stop();
      coordinator.stop();
      void peerListener.close();
    });
  }
  logger.info({ port: listener.boundPort, bind: config.value('bind'), dir, nodeId: identity.nodeId,
    appendfsync: config.value('appendfsync'), version: RINGKV_VERSION },
    'ready to accept connections');
  await store.load();
  background.push(startBackgroundCycle(config, store, listener, clock, logger,
    runtime === null ? null : tombstoneGraceMs));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      // leave-on-shutdown: hand the slots off first (CLUSTER LEAVE stops the node when
      // done); a second signal while leaving stops it at once.
      if (config.flag('leave-on-shutdown') && context.cluster?.leave() === true) {
        logger.info({ signal }, 'leaving the cluster before stopping');
        return;
      }
      lifecycle.shutdown(signal);
    });
  }
}

/** The hz cycle: active expiry and idle-client timeout; hz is read again every round. */
function startBackgroundCycle(config: Config, store: LocalStore, listener: ClientListener,
    clock: typeof systemClock, logger: Logger, tombstoneGraceMs: number | null): () => void {
  let timer: NodeJS.Timeout | null = null;
  const round = (): void => {
    try {
      const nowMs = clock.nowMs();
      store.expireDue(nowMs, EXPIRE_PER_TICK_MAX, tombstoneGraceMs);
      listener.closeIdle(config.integer('timeout'), nowMs);
    } catch (error) {
      logger.error({ err: error }, 'background cycle failed');
    }
    const hz = Math.min(500, Math.max(1, config.integer('hz')));
    timer = setTimeout(round, Math.round(1000 / hz));
  };
  round();
  return () => {
    if (timer !== null) clearTimeout(timer);
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`ringkv-server: fatal: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
