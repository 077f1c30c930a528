/**
 * Command-line options of the RingKV-cluster-vs-Redis-Cluster load benchmark
 * (cluster-compare.ts). Numeric options have bounds, so a typo fails at once instead of
 * after minutes of benchmarking.
 */
import { parseArgs } from 'node:util';

/** How redis-benchmark reaches the cluster. */
export type Routing = 'entry' | 'cluster';
export const ROUTINGS: readonly Routing[] = ['entry', 'cluster'];
export const ROUTING_LABELS: Readonly<Record<Routing, string>> = {
  entry: 'single entry',
  cluster: '--cluster',
};

/** Replicas of each key in the RingKV clusters (N), and the nodes per cluster. */
export const REPLICATION_FACTOR = 3;

/** Read and write consistency: replicas that must answer (R) and acknowledge (W). */
export interface Level {
  readonly read: number;
  readonly write: number;
}

export function levelName(level: Level): string {
  return `${level.read}/${level.write}`;
}

/** The level the targets are stated for: QUORUM reads and writes with N = 3. */
export const QUORUM: Level = { read: 2, write: 2 };

export interface ClusterCompareOptions {
  readonly rounds: number;
  readonly tests: readonly string[];
  /** -n per test and run (every run at -P 1). */
  readonly requests: number;
  /** -n per test of the unrecorded warm-up run per system and routing (0 = none). */
  readonly warmupRequests: number;
  readonly clients: number;
  readonly valueBytes: number;
  readonly keyspace: number;
  /** Read/write levels the one RingKV cluster is measured at (CONFIG SET before each run). */
  readonly levels: readonly Level[];
  readonly routings: readonly Routing[];
  readonly gossipIntervalMs: number;
  /** Also measure the Node floor of a 3-node cluster (cluster-floor.ts). */
  readonly floor: boolean;
  readonly write: boolean;
  readonly resultsPath: string;
  readonly profile: boolean;
  readonly profileTop: number;
  readonly profileOut: string | undefined;
}

export const USAGE = `usage: node dist/bench/load/cluster-compare.js [options]

Starts a 3-node RingKV cluster (N=3), which serves each read/write consistency level in
turn, and a Redis Cluster of 3 masters with one replica each, then runs redis-benchmark
against them in alternating rounds: through a single entry node (RingKV only: every RingKV
node coordinates any key) and with redis-benchmark --cluster (each key sent to its slot's
node). Reports medians of requests/s, p50 and p99, the RingKV/Redis Cluster ratios and the
QUORUM target check.

  --rounds N               measured rounds (default 3)
  --tests set,get          redis-benchmark tests (-t), default set,get
  --requests N             requests per test and run, -P 1 (default 100000)
  --warmup N               unrecorded warm-up requests per test, system and routing
                           (default 20000, 0 = off)
  --clients N              parallel connections (-c, default 50)
  --value-bytes N          value size (-d, default 100)
  --keyspace N             random keys (-r, default 100000)
  --levels 1/1,2/2,3/3     RingKV read/write consistency levels R/W, each 1..${REPLICATION_FACTOR}
                           (default 1/1,2/2,3/3; with --profile: 2/2, one level only)
  --routing entry,cluster  which routings to run (default both)
  --gossip-interval MS     RingKV --cluster-gossip-interval (default 200)
  --floor                  also measure the Node floor: three Node processes that exchange
                           the messages of a QUORUM write or read and do nothing else
  --write                  replace the cluster-compare section of the results file
  --results PATH           results file (default bench/RESULTS.md)
  --profile                one round against one RingKV cluster whose entry node runs under
                           node --cpu-prof, then print its functions with the most self time
                           (no Redis Cluster, no warm-up, no --write)
  --profile-top N          how many functions to print (default 25)
  --profile-out PATH       also keep the .cpuprofile (open it in Chrome DevTools)
  --help
`;

const ROUNDS_MAX = 100;
const REQUESTS_MAX = 100_000_000;
const CLIENTS_MAX = 10_000;
const VALUE_BYTES_MAX = 1_048_576;
const KEYSPACE_MAX = 100_000_000;
const GOSSIP_INTERVAL_MIN_MS = 10;
const GOSSIP_INTERVAL_MAX_MS = 60_000;
const PROFILE_TOP_MAX = 1_000;

function integer(name: string, text: string | undefined, fallback: number, min: number,
    max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be an integer, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max) throw new Error(`--${name} must be in ${min}..${max}`);
  return value;
}

function list(name: string, text: string | undefined, fallback: string): string[] {
  const items = (text ?? fallback).split(',').map((item) => item.trim()).filter((i) => i !== '');
  if (items.length === 0) throw new Error(`--${name} must not be empty`);
  if (new Set(items).size !== items.length) throw new Error(`--${name} repeats an entry`);
  return items;
}

function parseLevel(text: string): Level {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const read = Number(match?.[1]);
  const write = Number(match?.[2]);
  const valid = (value: number): boolean => value >= 1 && value <= REPLICATION_FACTOR;
  if (match === null || !valid(read) || !valid(write)) {
    throw new Error(`--levels: '${text}' is not R/W with R and W in 1..${REPLICATION_FACTOR}`);
  }
  return { read, write };
}

function parseRouting(text: string): Routing {
  if (text === 'entry' || text === 'cluster') return text;
  throw new Error(`--routing: '${text}' is neither 'entry' nor 'cluster'`);
}

/** Returns undefined when --help was asked for. Throws on invalid input. */
export function parseClusterOptions(argv: readonly string[]): ClusterCompareOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'rounds': { type: 'string' },
      'tests': { type: 'string' },
      'requests': { type: 'string' },
      'warmup': { type: 'string' },
      'clients': { type: 'string' },
      'value-bytes': { type: 'string' },
      'keyspace': { type: 'string' },
      'levels': { type: 'string' },
      'routing': { type: 'string' },
      'gossip-interval': { type: 'string' },
      'floor': { type: 'boolean' },
      'write': { type: 'boolean' },
      'results': { type: 'string' },
      'profile': { type: 'boolean' },
      'profile-top': { type: 'string' },
      'profile-out': { type: 'string' },
      'help': { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const tests = list('tests', values.tests, 'set,get');
  for (const test of tests) {
    // Passed to redis-benchmark -t as one comma-separated argument: keep it a plain name.
    if (!/^[a-z_]+$/.test(test)) throw new Error(`--tests: '${test}' is not a test name`);
  }
  const profile = values.profile === true;
  const options: ClusterCompareOptions = {
    rounds: integer('rounds', values.rounds, 3, 1, ROUNDS_MAX),
    tests,
    requests: integer('requests', values.requests, 100_000, 1, REQUESTS_MAX),
    warmupRequests: integer('warmup', values.warmup, 20_000, 0, REQUESTS_MAX),
    clients: integer('clients', values.clients, 50, 1, CLIENTS_MAX),
    valueBytes: integer('value-bytes', values['value-bytes'], 100, 1, VALUE_BYTES_MAX),
    keyspace: integer('keyspace', values.keyspace, 100_000, 1, KEYSPACE_MAX),
    levels: list('levels', values.levels, profile ? levelName(QUORUM) : '1/1,2/2,3/3')
      .map(parseLevel),
    routings: list('routing', values.routing, ROUTINGS.join(',')).map(parseRouting)
      .sort((a, b) => ROUTINGS.indexOf(a) - ROUTINGS.indexOf(b)),
    gossipIntervalMs: integer('gossip-interval', values['gossip-interval'], 200,
      GOSSIP_INTERVAL_MIN_MS, GOSSIP_INTERVAL_MAX_MS),
    floor: values.floor === true,
    write: values.write === true,
    resultsPath: values.results ?? 'bench/RESULTS.md',
    profile,
    profileTop: integer('profile-top', values['profile-top'], 25, 1, PROFILE_TOP_MAX),
    profileOut: values['profile-out'],
  };
  checkCombinations(options);
  return options;
}

function checkCombinations(options: ClusterCompareOptions): void {
  if (options.write && options.profile) {
    throw new Error('--write and --profile exclude each other: profiling slows RingKV down');
  }
  // A recorded result must hold what the target is about: QUORUM with --cluster routing.
  if (options.write && options.routings.length !== ROUTINGS.length) {
    throw new Error('--write needs both routings (drop --routing)');
  }
  if (options.write && !options.levels.some((level) => levelName(level) === levelName(QUORUM))) {
    throw new Error(`--write needs level ${levelName(QUORUM)} in --levels`);
  }
  if (options.profile && options.levels.length !== 1) {
    throw new Error('--profile runs one cluster: give --levels a single R/W');
  }
  if (options.profileOut !== undefined && !options.profile) {
    throw new Error('--profile-out needs --profile');
  }
}
