/**
 * Load benchmark: a 3-node RingKV cluster (N = 3) at each read/write consistency level in
 * turn against a Redis Cluster of 3 masters with one replica each, all on this machine,
 * driven by redis-benchmark through a single entry node and with --cluster routing. Systems
 * take turns (the order flips every round) so drift in machine load spreads over all of
 * them. Usage:
 * see cluster-options.ts or `--help`; what the numbers mean: bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import {
  MAIN_SCRIPT, REPOSITORY_ROOT, temporaryDirectory,
} from '../../test/helpers/processes.js';
import { Cleanup, cleanupOnSignals } from './cleanup.js';
import {
  levelName, parseClusterOptions, REPLICATION_FACTOR, ROUTING_LABELS, USAGE,
  type ClusterCompareOptions, type Routing,
} from './cluster-options.js';
import {
  query, setLevel, startFloorCluster, startRedisCluster, startRingkvCluster,
} from './cluster-processes.js';
import {
  aggregateCluster, CLUSTER_TARGETS, clusterTargetChecks, formatClusterSamples, formatEntries,
  NODE_FLOOR, REDIS_CLUSTER, ringkvSystem, supports, type ClusterSample, type System,
} from './cluster-summary.js';
import { formatProfile, parseCpuProfile, sourceLocator, summariseProfile } from './cpu-profile.js';
import { describeMachine, formatMachine, type Machine } from './machine.js';
import { QUIET_WAIT_TEXT, waitForQuietMachine } from './quiet.js';
import { runRedisBenchmark, type BenchmarkRow, type BenchmarkRun } from './redis-benchmark.js';
import { commandLine, wrap } from './report-text.js';
import { writeSection } from './results-file.js';
import { formatMs, formatRps, formatTargetChecks } from './summary.js';

const BENCHMARK_NAME = 'cluster-compare';
const SCRIPT = 'dist/bench/load/cluster-compare.js';

/** Set by the signal handler; the main flow checks it between steps and stops. */
let interruptExitCode: number | undefined;

function checkNotInterrupted(): void {
  if (interruptExitCode !== undefined) throw new Error('interrupted');
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** One system reached one way: where redis-benchmark connects, and whether with --cluster. */
interface Target {
  readonly system: System;
  readonly routing: Routing;
  readonly port: number;
  /** Run before each of its runs: the RingKV cluster takes this target's level. */
  readonly prepare?: () => Promise<void>;
}

/** A started cluster, and the nodes whose DBSIZE adds up to its number of keys. */
interface Running {
  readonly name: string;
  readonly keyPorts: readonly number[];
}

/**
 * Keys stored, for judging how many GETs hit. A Redis Cluster master counts the keys of its
 * slots; so does a RingKV node for the slots CLUSTER SLOTS shows it owning.
 */
async function countKeys(ports: readonly number[]): Promise<number> {
  let keys = 0;
  for (const port of ports) {
    const reply = await query(port, 'DBSIZE');
    if (typeof reply !== 'number') throw new Error(`DBSIZE on ${port}: ${String(reply)}`);
    keys += reply;
  }
  return keys;
}

function targetName(target: Target): string {
  const level = target.system.level === undefined ? '' : ` ${levelName(target.system.level)}`;
  return `${target.system.label}${level} ${ROUTING_LABELS[target.routing]}`.padEnd(27);
}

function checkPrerequisites(options: ClusterCompareOptions): void {
  if (!existsSync(MAIN_SCRIPT)) throw new Error(`${MAIN_SCRIPT} missing: run npx tsc -p . first`);
  const tools = ['redis-benchmark'];
  if (!options.profile && options.routings.includes('cluster')) {
    tools.push('redis-server', 'redis-cli');
  }
  for (const tool of tools) {
    if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`${tool} not found on PATH`);
  }
}

function benchmarkRun(options: ClusterCompareOptions, target: Target, pipeline: number,
    requests: number): BenchmarkRun {
  return { port: target.port, tests: options.tests, pipeline, requests,
    clients: options.clients, valueBytes: options.valueBytes, keyspace: options.keyspace,
    cluster: target.routing === 'cluster' };
}

function describeRows(rows: readonly BenchmarkRow[]): string {
  return rows.map((row) => `${row.test} ${formatRps(row.rps).padStart(7)} req/s `
    + `p50 ${formatMs(row.p50Ms)} p99 ${formatMs(row.p99Ms)}`).join('  |  ');
}

/**
 * Starts every cluster; returns the systems in display order, the clusters, and what to
 * benchmark.
 */
async function startSystems(options: ClusterCompareOptions, cleanup: Cleanup):
    Promise<{ systems: System[]; clusters: Running[]; targets: Target[] }> {
  const systems: System[] = [];
  const clusters: Running[] = [];
  const targets: Target[] = [];
  // Redis Cluster can only be measured with --cluster routing (see supports()).
  if (options.routings.includes('cluster')) {
    const startedMs = Date.now();
    const redis = await startRedisCluster(cleanup, log);
    checkNotInterrupted();
    log(`Redis Cluster: ports ${redis.ports.join(', ')} (masters ${redis.masterPorts.join(', ')}),`
      + ` formed in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
    systems.push(REDIS_CLUSTER);
    clusters.push({ name: REDIS_CLUSTER.label, keyPorts: redis.masterPorts });
    targets.push({ system: REDIS_CLUSTER, routing: 'cluster', port: redis.masterPorts[0] ?? 0 });
  }
  if (options.floor) {
    const ports = await startFloorCluster(options.valueBytes, cleanup, log);
    checkNotInterrupted();
    log(`Node floor: ports ${ports.join(', ')}`);
    // It stores nothing: no keys to count.
    systems.push(NODE_FLOOR);
    for (const routing of options.routings) {
      targets.push({ system: NODE_FLOOR, routing, port: ports[0] ?? 0 });
    }
  }
  const [firstLevel] = options.levels;
  if (firstLevel === undefined) return { systems, clusters, targets };
  const startedMs = Date.now();
  const cluster = await startRingkvCluster(
    { level: firstLevel, gossipIntervalMs: options.gossipIntervalMs }, cleanup, log);
  checkNotInterrupted();
  log(`RingKV: ports ${cluster.ports.join(', ')}, formed in `
    + `${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
  clusters.push({ name: 'RingKV', keyPorts: cluster.ports });
  for (const level of options.levels) {
    const system = ringkvSystem(level);
    systems.push(system);
    const prepare = async (): Promise<void> => {
      await setLevel(cluster.ports, level);
    };
    for (const routing of options.routings) {
      if (supports(system, routing)) {
        targets.push({ system, routing, port: cluster.ports[0] ?? 0, prepare });
      }
    }
  }
  return { systems, clusters, targets };
}

/** JIT warm-up, and some keys present for GET; not recorded. */
async function warmUp(options: ClusterCompareOptions, targets: readonly Target[],
    cleanup: Cleanup): Promise<void> {
  if (options.warmupRequests === 0) return;
  for (const target of targets) {
    checkNotInterrupted();
    await target.prepare?.();
    const rows = await runRedisBenchmark(
      benchmarkRun(options, target, 1, options.warmupRequests), cleanup);
    log(`warm-up   ${targetName(target)} ${describeRows(rows)}`);
  }
}

/** "Redis Cluster 31,020, RingKV 55,012" */
async function describeKeys(clusters: readonly Running[]): Promise<string> {
  const counts: string[] = [];
  for (const { name, keyPorts } of clusters) {
    counts.push(`${name} ${formatRps(await countKeys(keyPorts))}`);
  }
  return counts.join(', ');
}

async function measure(options: ClusterCompareOptions, targets: readonly Target[],
    cleanup: Cleanup): Promise<ClusterSample[]> {
  const samples: ClusterSample[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      checkNotInterrupted();
      await target.prepare?.();
      await waitForQuietMachine();
      const rows = await runRedisBenchmark(benchmarkRun(options, target, 1, options.requests),
        cleanup);
      for (const row of rows) {
        samples.push({ round, system: target.system, routing: target.routing, row });
      }
      log(`round ${round}/${options.rounds} ${targetName(target)} ${describeRows(rows)}`);
    }
  }
  return samples;
}

function settingsText(options: ClusterCompareOptions): string {
  const warmUpText = options.warmupRequests === 0 ? 'no warm-up'
    : `an unrecorded warm-up of ${options.warmupRequests} requests per test, system and `
      + 'routing';
  return `redis-benchmark \`-t ${options.tests.join(',')} -c ${options.clients} `
    + `-d ${options.valueBytes} -r ${options.keyspace} -n ${options.requests} -P 1\`, `
    + `${options.rounds} rounds, systems alternating (order flipped every round), after `
    + `${warmUpText}. RingKV: one ${REPLICATION_FACTOR}-node cluster (\`--replication-factor `
    + `${REPLICATION_FACTOR} --appendfsync everysec --cluster-gossip-interval `
    + `${options.gossipIntervalMs}\`) serving every R/W level: before each run, \`CONFIG SET `
    + 'read-consistency R write-consistency W` on every node sets the defaults the run\'s new '
    + 'connections get (what a client would choose with CONSISTENCY). Redis Cluster: 3 masters '
    + 'with one replica each (asynchronous replication: a write is acknowledged by its master '
    + 'alone), `--cluster-enabled yes --appendonly yes --appendfsync everysec --save \'\'`. '
    + 'Single entry: every connection to one node (a RingKV node coordinates any key; a Redis '
    + 'Cluster node answers MOVED for keys it does not own, so n/a). --cluster: '
    + 'redis-benchmark --cluster, which reads the slot map and sends each client\'s keys to '
    + 'the node owning their slot (RingKV shows the ring as slots, every node a master). '
    + (options.floor ? 'Node floor: bench/load/cluster-floor.ts, three Node processes that '
      + 'send each SET to both other nodes and answer at the first acknowledgement, and each '
      + 'GET to one other node, in canned messages the size of RingKV\'s (no parsing, no '
      + 'storage): what any Node cluster replicating to three nodes can reach that day. ' : '')
    + QUIET_WAIT_TEXT + 'All servers and redis-benchmark share the same cores.';
}

interface Outcome {
  readonly systems: readonly System[];
  readonly samples: readonly ClusterSample[];
  /** describeKeys() after the last round. */
  readonly keys: string;
}

function sectionText(options: ClusterCompareOptions, machine: Machine, outcome: Outcome,
    startedAt: Date, elapsedMs: number): string {
  const entries = aggregateCluster(outcome.samples, outcome.systems, options.routings);
  return [
    `## ${BENCHMARK_NAME}: RingKV cluster vs Redis Cluster`,
    '',
    `Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, took `
      + `${(elapsedMs / 60_000).toFixed(1)} min.`,
    '',
    `Command: \`${commandLine(SCRIPT)}\``,
    '',
    wrap(`Settings: ${settingsText(options)}`),
    '',
    'Machine:',
    '',
    formatMachine(machine),
    '',
    `### Medians over ${options.rounds} rounds`,
    '',
    formatEntries(entries),
    '',
    wrap('R/W: RingKV read and write consistency (replicas that must answer a read and '
      + 'acknowledge a write, of N = 3). The ratios compare each median with Redis Cluster\'s '
      + 'under --cluster routing. GETs hit only keys written by earlier SETs (random keys, '
      + '--cluster keys carry a hash tag per node, so they differ from single-entry keys); keys '
      + `stored at the end: ${outcome.keys}.`),
    '',
    '### Target',
    '',
    formatTargetChecks(clusterTargetChecks(entries)),
    '',
    '### All rounds',
    '',
    '<details><summary>per-round redis-benchmark figures</summary>',
    '',
    formatClusterSamples(outcome.samples),
    '',
    '</details>',
  ].join('\n');
}

async function compareRun(options: ClusterCompareOptions, cleanup: Cleanup): Promise<void> {
  const startedAt = new Date();
  const machine = describeMachine(REPOSITORY_ROOT);
  log(formatMachine(machine));
  const { systems, clusters, targets } = await startSystems(options, cleanup);
  await warmUp(options, targets, cleanup);
  const samples = await measure(options, targets, cleanup);
  const keys = await describeKeys(clusters);
  log(`\nkeys stored at the end: ${keys}`);
  const entries = aggregateCluster(samples, systems, options.routings);
  log(`\nmedians over ${options.rounds} rounds:\n`);
  log(formatEntries(entries));
  log(`\ntarget (RingKV ${levelName(CLUSTER_TARGETS.level)}, `
    + `${ROUTING_LABELS[CLUSTER_TARGETS.routing]}):\n`
    + formatTargetChecks(clusterTargetChecks(entries)));
  if (options.write) {
    const elapsedMs = new Date().getTime() - startedAt.getTime();
    writeSection(options.resultsPath, BENCHMARK_NAME,
      sectionText(options, machine, { systems, samples, keys }, startedAt, elapsedMs));
    log(`\nwrote the ${BENCHMARK_NAME} section of ${options.resultsPath}`);
  }
}

async function profileRun(options: ClusterCompareOptions, cleanup: Cleanup): Promise<void> {
  const level = options.levels[0];
  if (level === undefined) throw new Error('--profile needs one level');
  const directory = temporaryDirectory('ringkv-cpuprof');
  cleanup.defer('profile directory', () => {
    rmSync(directory, { recursive: true, force: true });
  });
  const cluster = await startRingkvCluster(
    { level, gossipIntervalMs: options.gossipIntervalMs, profileDirectory: directory },
    cleanup, log);
  const stopProfiled = cluster.stopProfiled;
  if (stopProfiled === undefined) throw new Error('the entry node is not profiled');
  checkNotInterrupted();
  log(`RingKV R/W ${levelName(level)}: ports ${cluster.ports.join(', ')}; `
    + `entry node ${cluster.ports[0] ?? '?'} under --cpu-prof`);
  const system = ringkvSystem(level);
  const samples: ClusterSample[] = [];
  for (const routing of options.routings) {
    checkNotInterrupted();
    const target: Target = { system, routing, port: cluster.ports[0] ?? 0 };
    const rows = await runRedisBenchmark(benchmarkRun(options, target, 1, options.requests),
      cleanup);
    for (const row of rows) samples.push({ round: 1, system, routing, row });
    log(`profiled  ${targetName(target)} ${describeRows(rows)}`);
  }
  // The other two nodes keep running, so the entry node shuts down as it would in service.
  const file = await stopProfiled();
  if (options.profileOut !== undefined) copyFileSync(file, options.profileOut);
  log('\nthroughput while profiling (slower than normal; not comparable):\n');
  log(formatEntries(aggregateCluster(samples, [system], options.routings)));
  const profile = parseCpuProfile(readFileSync(file, 'utf8'));
  log(`\nprofile of the entry node (port ${cluster.ports[0] ?? '?'}); with --cluster routing it `
    + 'coordinates only its share of the slots but stores every key (N = 3):\n');
  log(formatProfile(summariseProfile(profile, sourceLocator(REPOSITORY_ROOT)),
    options.profileTop));
  if (options.profileOut !== undefined) log(`\nprofile kept at ${options.profileOut}`);
}

async function main(): Promise<number> {
  let options: ClusterCompareOptions | undefined;
  try {
    options = parseClusterOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const cleanup = new Cleanup();
  cleanupOnSignals(cleanup, (exitCode) => {
    interruptExitCode = exitCode;
  });
  try {
    checkPrerequisites(options);
    if (options.profile) await profileRun(options, cleanup);
    else await compareRun(options, cleanup);
    return 0;
  } catch (error) {
    if (interruptExitCode !== undefined) return interruptExitCode;
    process.stderr.write(`${BENCHMARK_NAME}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

process.exitCode = await main();
