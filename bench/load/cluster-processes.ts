/**
 * The clusters cluster-compare.ts measures, each on free ports with temporary directories
 * and every process registered with the Cleanup: a 3-node RingKV cluster (optionally with
 * its entry node under `node --cpu-prof`) and a Redis Cluster of 3 masters with one replica
 * each, created with `redis-cli --cluster create`. Both return only once formed. With
 * --floor also the Node floor of a 3-node cluster (cluster-floor.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseInfo } from '../../test/helpers/clients.js';
import {
  decodeReply, expectArray, expectString, parseClusterNodes, type Reply,
} from '../../test/helpers/cluster.js';
import { freePort } from '../../test/helpers/ports.js';
import {
  startNode, startRedis, startScript, temporaryDirectory, type ServerProcess,
} from '../../test/helpers/processes.js';
import { RespClient } from '../../test/helpers/resp-client.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { Cleanup } from './cleanup.js';
import { REPLICATION_FACTOR, type Level } from './cluster-options.js';
import { startProfiledNode } from './profiled-node.js';
import { capture } from './redis-benchmark.js';

/** Forming takes a few gossip rounds; the machine may be busy with other work. */
const FORM_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
const QUERY_TIMEOUT_MS = 10_000;
/** Other programs on the machine (parallel tests) may bind a port between choice and use. */
const START_ATTEMPTS = 3;
const REDIS_MASTERS = 3;
const REDIS_REPLICAS_PER_MASTER = 1;

/** A ServerProcess-like handle: stop() ends the process and forgets its cleanup entry. */
interface Member {
  readonly port: number;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface RingkvCluster {
  /** Client ports; the entry node (the profiled one, if any) first. */
  readonly ports: readonly number[];
  /**
   * With a profile directory: stops the entry node with SIGINT (the others keep running)
   * and returns the path of its .cpuprofile.
   */
  readonly stopProfiled: (() => Promise<string>) | undefined;
}

export interface RedisCluster {
  /** All six client ports. */
  readonly ports: readonly number[];
  /** Ports of the nodes that own slots. */
  readonly masterPorts: readonly number[];
}

/** Sends one command on a fresh connection and decodes the reply. */
export async function query(port: number, ...args: string[]): Promise<Reply> {
  const client = await RespClient.connect(port);
  try {
    client.send(...args);
    const [reply] = await client.replies(1, QUERY_TIMEOUT_MS);
    if (reply === undefined) throw new Error(`no reply to ${args.join(' ')} on ${port}`);
    return decodeReply(reply);
  } finally {
    client.close();
  }
}

async function infoFields(port: number, ...args: string[]): Promise<Map<string, string>> {
  return parseInfo(expectString(await query(port, ...args), args.join(' ')));
}

/** A free port was taken by someone else before our server bound it: worth another try. */
class PortTakenError extends Error {
  override name = 'PortTakenError';
}

function portTaken(error: unknown): boolean {
  return error instanceof PortTakenError
    || (error instanceof Error && /EADDRINUSE|address already in use/i.test(error.message));
}

async function withPortRetries<T>(what: string, attempt: () => Promise<T>,
    log: (line: string) => void): Promise<T> {
  for (let number = 1; ; number++) {
    try {
      return await attempt();
    } catch (error) {
      if (!portTaken(error) || number === START_ATTEMPTS) throw error;
      log(`${what}: a port was taken meanwhile (${(error as Error).message.split('\n')[0]}); `
        + 'retrying on other ports');
    }
  }
}

/** The server on `port` must be the process we started, not another program's. */
async function checkOwnProcess(member: Member): Promise<void> {
  const pid = (await infoFields(member.port, 'INFO', 'server')).get('process_id');
  if (pid !== String(member.pid)) {
    throw new PortTakenError(`port ${member.port} answers as pid ${pid ?? '?'}, `
      + `not our ${member.pid ?? '?'}`);
  }
}

/** Starts all members at once; if any fails, stops the others and throws the first error. */
async function startAll(starts: ReadonlyArray<() => Promise<Member>>): Promise<Member[]> {
  const results = await Promise.allSettled(starts.map((start) => start()));
  const members = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value]
    : []));
  try {
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
    for (const member of members) await checkOwnProcess(member);
    return members;
  } catch (error) {
    await Promise.allSettled(members.map((member) => member.stop()));
    throw error;
  }
}

function registered(server: ServerProcess, label: string, cleanup: Cleanup): Member {
  const stopAndRemove = async (): Promise<void> => {
    await server.stop();
    server.cleanup();
  };
  const forget = cleanup.defer(`${label} (port ${server.port})`, stopAndRemove);
  return {
    port: server.port,
    pid: server.process.pid,
    stop: async () => {
      forget();
      await stopAndRemove();
    },
  };
}

export interface RingkvClusterSettings {
  /** The consistency new connections get at start (setLevel changes it later). */
  readonly level: Level;
  readonly gossipIntervalMs: number;
  /** Run the entry node under `node --cpu-prof`, writing its profile here. */
  readonly profileDirectory?: string;
}

export async function startRingkvCluster(settings: RingkvClusterSettings, cleanup: Cleanup,
    log: (line: string) => void): Promise<RingkvCluster> {
  return await withPortRetries('RingKV cluster',
    () => startRingkvClusterOnce(settings, cleanup), log);
}

async function startRingkvClusterOnce(settings: RingkvClusterSettings, cleanup: Cleanup):
    Promise<RingkvCluster> {
  const ports: number[] = [];
  for (let index = 0; index < REPLICATION_FACTOR; index++) ports.push(await freePort());
  const seeds = ports.map((port) => `127.0.0.1:${port}`).join(',');
  // The secret only keeps nodes of the other clusters (and of parallel tests) out.
  const secret = `cluster-compare-${process.pid}-${ports[0] ?? 0}`;
  const args = ['--cluster-seeds', seeds, '--cluster-secret', secret,
    '--replication-factor', String(REPLICATION_FACTOR),
    '--cluster-gossip-interval', String(settings.gossipIntervalMs),
    '--read-consistency', String(settings.level.read),
    '--write-consistency', String(settings.level.write),
    // As in compare-redis.ts: the same durability as Redis's appendfsync everysec.
    '--appendfsync', 'everysec'];
  let stopProfiled: (() => Promise<string>) | undefined;
  const starts = ports.map((port, index) => async (): Promise<Member> => {
    const directory = settings.profileDirectory;
    if (index === 0 && directory !== undefined) {
      // A directory per attempt: a node that failed to start may have written a profile too.
      const attemptDirectory = mkdtempSync(join(directory, 'attempt-'));
      const node = await startProfiledNode(attemptDirectory, cleanup, { port, args });
      stopProfiled = node.stop;
      return { port, pid: node.pid, stop: async () => {
        // Only reached when the cluster failed to form: no profile is expected.
        await node.stop().catch(() => undefined);
      } };
    }
    return registered(await startNode({ port, args }), 'RingKV node', cleanup);
  });
  const members = await startAll(starts);
  try {
    await waitRingkvFormed(ports);
    await checkLevels(ports, settings.level);
  } catch (error) {
    await Promise.allSettled(members.map((member) => member.stop()));
    throw error;
  }
  return { ports, stopProfiled };
}

/**
 * Formed: every node knows all members (cluster_known_nodes) and all answer byte-identical
 * CLUSTER SLOTS, so redis-benchmark --cluster gets the same map from any of them.
 */
async function waitRingkvFormed(ports: readonly number[]): Promise<void> {
  await waitFor(`RingKV cluster on ports ${ports.join(', ')} to form`, async () => {
    const slots = new Set<string>();
    for (const port of ports) {
      const info = await infoFields(port, 'CLUSTER', 'INFO');
      if (info.get('cluster_known_nodes') !== String(ports.length)) return undefined;
      slots.add(JSON.stringify(await query(port, 'CLUSTER', 'SLOTS')));
    }
    return slots.size === 1 ? true : undefined;
  }, FORM_TIMEOUT_MS, POLL_INTERVAL_MS);
}

/**
 * Makes `level` the read and write consistency that new connections (redis-benchmark's) get
 * on every node: one cluster serves every level in turn, with no idle clusters beside it.
 */
export async function setLevel(ports: readonly number[], level: Level): Promise<void> {
  for (const port of ports) {
    const reply = await query(port, 'CONFIG', 'SET', 'read-consistency', String(level.read),
      'write-consistency', String(level.write));
    if (reply !== 'OK') throw new Error(`node ${port}: CONFIG SET: ${String(reply)}`);
  }
  await checkLevels(ports, level);
}

/** The defaults new connections (redis-benchmark's) get are the ones asked for. */
async function checkLevels(ports: readonly number[], level: Level): Promise<void> {
  for (const port of ports) {
    for (const [name, wanted] of [['read-consistency', level.read],
      ['write-consistency', level.write]] as const) {
      const reply = expectArray(await query(port, 'CONFIG', 'GET', name), 'CONFIG GET');
      if (reply[1] !== String(wanted)) {
        throw new Error(`node ${port}: ${name} is ${String(reply[1])}, expected ${wanted}`);
      }
    }
  }
}

/** Same durability as compare-redis.ts's redis-server, plus cluster mode. */
const REDIS_CLUSTER_ARGS = ['--cluster-enabled', 'yes',
  '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];

export async function startRedisCluster(cleanup: Cleanup, log: (line: string) => void):
    Promise<RedisCluster> {
  return await withPortRetries('Redis Cluster', () => startRedisClusterOnce(cleanup), log);
}

async function startRedisClusterOnce(cleanup: Cleanup): Promise<RedisCluster> {
  const count = REDIS_MASTERS * (1 + REDIS_REPLICAS_PER_MASTER);
  const configDirectory = temporaryDirectory('redis-cluster-config');
  const forgetDirectory = cleanup.defer('Redis Cluster config directory', () => {
    rmSync(configDirectory, { recursive: true, force: true });
  });
  const starts = Array.from({ length: count }, (_, index) => async (): Promise<Member> =>
    registered(await startRedis([...REDIS_CLUSTER_ARGS, '--cluster-config-file',
      join(configDirectory, `nodes-${index}.conf`)]), 'redis-server (cluster)', cleanup));
  const members = await startAll(starts);
  const ports = members.map((member) => member.port);
  try {
    await capture('redis-cli', ['--cluster', 'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas', String(REDIS_REPLICAS_PER_MASTER), '--cluster-yes'], cleanup);
    const masterPorts = await waitRedisFormed(ports);
    return { ports, masterPorts };
  } catch (error) {
    await Promise.allSettled(members.map((member) => member.stop()));
    forgetDirectory();
    rmSync(configDirectory, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Formed: every node reports cluster_state:ok and knows all six, and every replica has
 * finished its initial sync (otherwise the full sync would run during the first round).
 * Returns the masters' ports.
 */
async function waitRedisFormed(ports: readonly number[]): Promise<number[]> {
  return await waitFor(`Redis Cluster on ports ${ports.join(', ')} to form`, async () => {
    for (const port of ports) {
      const info = await infoFields(port, 'CLUSTER', 'INFO');
      if (info.get('cluster_state') !== 'ok'
        || info.get('cluster_known_nodes') !== String(ports.length)) return undefined;
      const replication = await infoFields(port, 'INFO', 'replication');
      if (replication.get('role') === 'slave' && (replication.get('master_link_status') !== 'up'
        || replication.get('master_sync_in_progress') !== '0')) return undefined;
    }
    const first = ports[0] ?? 0;
    const nodes = parseClusterNodes(expectString(await query(first, 'CLUSTER', 'NODES'),
      'CLUSTER NODES'));
    const masters = nodes.filter((line) => line.flags.includes('master') && line.slots.length > 0)
      .map((line) => Number(/:(\d+)@/.exec(line.address)?.[1]));
    return masters.length === REDIS_MASTERS ? masters : undefined;
  }, FORM_TIMEOUT_MS, POLL_INTERVAL_MS);
}

const FLOOR_CLUSTER_SCRIPT = new URL('./cluster-floor.js', import.meta.url).pathname;

/** The Node floor's three nodes; returns their client ports, the first one's first. */
export async function startFloorCluster(valueBytes: number, cleanup: Cleanup,
    log: (line: string) => void): Promise<number[]> {
  return await withPortRetries('Node floor cluster', async () => {
    const others = [await freePort(), await freePort()];
    const peerPorts = [await freePort(), await freePort(), await freePort()];
    // Resolves once the first node answers PING: every peer port listens by then.
    const server = await startScript(FLOOR_CLUSTER_SCRIPT, ['--ports', others.join(','),
      '--peer-ports', peerPorts.join(','), '--value-bytes', String(valueBytes)]);
    registered(server, 'Node floor cluster', cleanup);
    const ports = [server.port, ...others];
    await waitFor(`the Node floor on ports ${ports.join(', ')}`, async () => {
      for (const port of ports) {
        if (await query(port, 'PING').catch(() => undefined) !== 'PONG') return undefined;
      }
      return true;
    }, FORM_TIMEOUT_MS, POLL_INTERVAL_MS);
    return ports;
  }, log);
}
