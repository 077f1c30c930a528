/**
 * Load benchmark: RingKV (one node) against redis-server on the same machine, both with an
 * append-only log fsynced every second, driven by redis-benchmark. The servers take turns
 * (the order flips every round) so drift in machine load — other builds and tests run here —
 * spreads over both instead of favouring whichever ran first. Usage: see options.ts or
 * `--help`; what the numbers mean: bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import {
  MAIN_SCRIPT, REPOSITORY_ROOT, startNode, startRedis, startScript, temporaryDirectory,
  type ServerProcess,
} from '../../test/helpers/processes.js';
import { Cleanup, cleanupOnSignals } from './cleanup.js';
import { formatProfile, parseCpuProfile, sourceLocator, summariseProfile } from './cpu-profile.js';
import { describeMachine, formatMachine, type Machine } from './machine.js';
import {
  comparesBoth, parseOptions, requestsFor, SERVER_LABELS, SERVER_NAMES, USAGE,
  type CompareOptions, type ServerName,
} from './options.js';
import { startProfiledNode } from './profiled-node.js';
import { QUIET_WAIT_TEXT, waitForQuietMachine } from './quiet.js';
import { runRedisBenchmark, type BenchmarkRow, type BenchmarkRun } from './redis-benchmark.js';
import { commandLine, wrap } from './report-text.js';
import { writeSection } from './results-file.js';
import {
  aggregate, formatAggregates, formatMs, formatRps, formatSamples, formatTargetChecks,
  targetChecks, type Sample,
} from './summary.js';

const BENCHMARK_NAME = 'compare-redis';

/** Set by the signal handler; the main flow checks it between steps and stops. */
let interruptExitCode: number | undefined;

function checkNotInterrupted(): void {
  if (interruptExitCode !== undefined) throw new Error('interrupted');
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function checkPrerequisites(options: CompareOptions): void {
  if (!existsSync(MAIN_SCRIPT)) throw new Error(`${MAIN_SCRIPT} missing: run npx tsc -p . first`);
  const tools = options.servers.includes('redis') && !options.profile
    ? ['redis-benchmark', 'redis-server'] : ['redis-benchmark'];
  for (const tool of tools) {
    if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`${tool} not found on PATH`);
  }
}

const FLOOR_SCRIPT = new URL('./floor-server.js', import.meta.url).pathname;

async function startServer(name: ServerName, options: CompareOptions, cleanup: Cleanup):
    Promise<ServerProcess> {
  // Same durability on both sides: an append-only log fsynced once a second, no snapshots.
  let server: ServerProcess;
  if (name === 'redis') {
    server = await startRedis(['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '']);
  } else if (name === 'ringkv') {
    server = await startNode({ args: ['--appendfsync', 'everysec'] });
  } else {
    server = await startScript(FLOOR_SCRIPT, ['--value-bytes', String(options.valueBytes)]);
  }
  cleanup.defer(`${SERVER_LABELS[name]} (port ${server.port})`, async () => {
    await server.stop();
    server.cleanup();
  });
  checkNotInterrupted();
  log(`${SERVER_LABELS[name]}: port ${server.port}, pid ${server.process.pid ?? '?'}, `
    + `dir ${server.dir}`);
  return server;
}

function benchmarkRun(options: CompareOptions, port: number, pipeline: number,
    requests: number): BenchmarkRun {
  return { port, tests: options.tests, pipeline, requests, clients: options.clients,
    valueBytes: options.valueBytes, keyspace: options.keyspace };
}

function describeRows(rows: readonly BenchmarkRow[]): string {
  return rows.map((row) => `${row.test} ${formatRps(row.rps).padStart(9)} req/s `
    + `p50 ${formatMs(row.p50Ms)} p99 ${formatMs(row.p99Ms)}`).join('  |  ');
}

/** JIT warm-up for RingKV, and keys present for GET, on both servers alike; not recorded. */
async function warmUp(options: CompareOptions, ports: ReadonlyMap<ServerName, number>,
    cleanup: Cleanup): Promise<void> {
  if (options.warmupRequests === 0) return;
  for (const pipeline of options.pipelines) {
    for (const [name, port] of ports) {
      checkNotInterrupted();
      const rows = await runRedisBenchmark(
        benchmarkRun(options, port, pipeline, options.warmupRequests), cleanup);
      log(`warm-up   -P ${String(pipeline).padEnd(3)} ${SERVER_LABELS[name].padEnd(10)} `
        + describeRows(rows));
    }
  }
}

async function measure(options: CompareOptions, ports: ReadonlyMap<ServerName, number>,
    cleanup: Cleanup): Promise<Sample[]> {
  const samples: Sample[] = [];
  const servers = [...ports];
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 === 1 ? servers : [...servers].reverse();
    for (const pipeline of options.pipelines) {
      for (const [server, port] of order) {
        checkNotInterrupted();
        const run = benchmarkRun(options, port, pipeline, requestsFor(options, pipeline));
        await waitForQuietMachine();
        const rows = await runRedisBenchmark(run, cleanup);
        for (const row of rows) samples.push({ round, server, pipeline, row });
        log(`round ${round}/${options.rounds} -P ${String(pipeline).padEnd(3)} `
          + `${SERVER_LABELS[server].padEnd(10)} ${describeRows(rows)}`);
      }
    }
  }
  return samples;
}

function settingsText(options: CompareOptions): string {
  const depths = options.pipelines.map((pipeline) =>
    `-n ${requestsFor(options, pipeline)} at -P ${pipeline}`).join(', ');
  return `redis-benchmark \`-t ${options.tests.join(',')} -c ${options.clients} `
    + `-d ${options.valueBytes} -r ${options.keyspace}\`, ${depths}; ${options.rounds} rounds, `
    + `servers alternating (order flipped every round), after an unrecorded warm-up of `
    + `${options.warmupRequests} requests per test and depth. Redis: \`--appendonly yes `
    + `--appendfsync everysec --save ''\`. RingKV: one node, \`--appendfsync everysec\`. `
    + (options.servers.includes('floor') ? 'Node floor: bench/load/floor-server.ts (counts '
      + 'requests, writes canned replies; no parsing, no storage). ' : '')
    + QUIET_WAIT_TEXT + 'Servers and redis-benchmark share the same cores.';
}

function sectionText(options: CompareOptions, machine: Machine, samples: readonly Sample[],
    startedAt: Date, elapsedMs: number): string {
  const aggregates = aggregate(samples);
  return [
    `## ${BENCHMARK_NAME}: RingKV vs redis-server`,
    '',
    `Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, took `
      + `${(elapsedMs / 60_000).toFixed(1)} min.`,
    '',
    `Command: \`${commandLine('dist/bench/load/compare-redis.js')}\``,
    '',
    wrap(`Settings: ${settingsText(options)}`),
    '',
    'Machine:',
    '',
    formatMachine(machine),
    '',
    `### Medians over ${options.rounds} rounds`,
    '',
    formatAggregates(aggregates, options.servers),
    '',
    'RingKV/Redis is the median RingKV req/s over the median Redis req/s.',
    '',
    '### Targets',
    '',
    formatTargetChecks(targetChecks(aggregates)),
    '',
    '### All rounds',
    '',
    '<details><summary>per-round redis-benchmark figures</summary>',
    '',
    formatSamples(samples),
    '',
    '</details>',
  ].join('\n');
}

async function compareRun(options: CompareOptions, cleanup: Cleanup): Promise<void> {
  const startedAt = new Date();
  const machine = describeMachine(REPOSITORY_ROOT);
  log(formatMachine(machine));
  const ports = new Map<ServerName, number>();
  for (const name of SERVER_NAMES) {
    if (options.servers.includes(name)) {
      ports.set(name, (await startServer(name, options, cleanup)).port);
    }
  }
  await warmUp(options, ports, cleanup);
  const samples = await measure(options, ports, cleanup);
  const aggregates = aggregate(samples);
  log(`\nmedians over ${options.rounds} rounds:\n`);
  log(formatAggregates(aggregates, options.servers));
  if (comparesBoth(options.servers)) {
    log(`\ntargets:\n${formatTargetChecks(targetChecks(aggregates))}`);
  }
  if (options.write) {
    const elapsedMs = new Date().getTime() - startedAt.getTime();
    writeSection(options.resultsPath,
      BENCHMARK_NAME, sectionText(options, machine, samples, startedAt, elapsedMs));
    log(`\nwrote the ${BENCHMARK_NAME} section of ${options.resultsPath}`);
  }
}

async function profileRun(options: CompareOptions, cleanup: Cleanup): Promise<void> {
  const directory = temporaryDirectory('ringkv-cpuprof');
  cleanup.defer('profile directory', () => {
    rmSync(directory, { recursive: true, force: true });
  });
  const node = await startProfiledNode(directory, cleanup);
  log(`RingKV under --cpu-prof: port ${node.port}`);
  if (options.tests.includes('get') && !options.tests.includes('set')) {
    // GETs of an empty keyspace never reach a B-tree page: write the keys first (this
    // pass is in the profile too, as a share of SET functions).
    const populate = { ...benchmarkRun(options, node.port, 16, options.keyspace),
      tests: ['set'] };
    const rows = await runRedisBenchmark(populate, cleanup);
    log(`populated -P 16  RingKV ${describeRows(rows)} (profiled too)`);
  }
  const samples: Sample[] = [];
  for (const pipeline of options.pipelines) {
    checkNotInterrupted();
    const run = benchmarkRun(options, node.port, pipeline, requestsFor(options, pipeline));
    const rows = await runRedisBenchmark(run, cleanup);
    for (const row of rows) samples.push({ round: 1, server: 'ringkv', pipeline, row });
    log(`profiled  -P ${String(pipeline).padEnd(3)} RingKV ${describeRows(rows)}`);
  }
  const file = await node.stop();
  if (options.profileOut !== undefined) copyFileSync(file, options.profileOut);
  log('\nthroughput while profiling (slower than normal; not comparable):\n');
  log(formatAggregates(aggregate(samples), ['ringkv']));
  const profile = parseCpuProfile(readFileSync(file, 'utf8'));
  log(`\n${formatProfile(summariseProfile(profile, sourceLocator(REPOSITORY_ROOT)),
    options.profileTop)}`);
  if (options.profileOut !== undefined) log(`\nprofile kept at ${options.profileOut}`);
}

async function main(): Promise<number> {
  let options: CompareOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
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
