/**
 * Command-line options of the RingKV-vs-redis-server load benchmark. Every numeric option
 * has bounds, so a typo fails at once instead of after minutes of benchmarking.
 */
import { parseArgs } from 'node:util';

export type ServerName = 'redis' | 'ringkv' | 'floor';
/**
 * Display order; the run order alternates per round (see compare-redis.ts). `floor` is the
 * Node floor (floor-server.ts), run only with --floor.
 */
export const SERVER_NAMES: readonly ServerName[] = ['redis', 'ringkv', 'floor'];
export const SERVER_LABELS: Readonly<Record<ServerName, string>> = {
  redis: 'Redis',
  ringkv: 'RingKV',
  floor: 'Node floor',
};

/** True when both servers the targets compare ran. */
export function comparesBoth(servers: readonly ServerName[]): boolean {
  return servers.includes('redis') && servers.includes('ringkv');
}

export interface CompareOptions {
  readonly rounds: number;
  readonly tests: readonly string[];
  readonly pipelines: readonly number[];
  /** -n for runs at -P 1 (each request waits for its reply: the slow case). */
  readonly requestsUnpipelined: number;
  /** -n for runs at -P > 1, several times more so a run still lasts a few seconds. */
  readonly requestsPipelined: number;
  readonly warmupRequests: number;
  readonly clients: number;
  readonly valueBytes: number;
  readonly keyspace: number;
  readonly servers: readonly ServerName[];
  readonly write: boolean;
  readonly resultsPath: string;
  readonly profile: boolean;
  readonly profileTop: number;
  readonly profileOut: string | undefined;
}

export const USAGE = `usage: node dist/bench/load/compare-redis.js [options]

Runs redis-benchmark against a RingKV node and a redis-server on this machine, alternating
between them, and reports median throughput and latency per test and pipeline depth.

  --rounds N               measured rounds per server (default 5)
  --tests set,get          redis-benchmark tests (-t), default set,get
  --pipelines 1,16         pipeline depths (-P), default 1,16
  --requests N             requests per test at -P 1 (default 200000)
  --pipelined-requests N   requests per test at -P > 1 (default 1000000)
  --warmup N               unrecorded warm-up requests per test and depth (default 50000, 0 = off)
  --clients N              parallel connections (-c, default 50)
  --value-bytes N          value size (-d, default 100)
  --keyspace N             random keys (-r, default 100000)
  --only ringkv|redis      benchmark one server only (quick iterations; no ratio)
  --floor                  also run the Node floor (bench/load/floor-server.ts): a Node
                           server that counts requests and writes canned replies, the
                           ceiling of any server on Node's sockets on this machine
  --write                  replace the compare-redis section of the results file
  --results PATH           results file (default bench/RESULTS.md)
  --profile                one CPU-profiled round against RingKV only, then print the
                           functions with the most self time (no comparison, no --write)
  --profile-top N          how many functions to print (default 25)
  --profile-out PATH       also keep the .cpuprofile (open it in Chrome DevTools)
  --help
`;

/** Bounds keep a typo from starting an hour-long run or an absurd redis-benchmark call. */
const ROUNDS_MAX = 100;
const REQUESTS_MAX = 100_000_000;
const CLIENTS_MAX = 10_000;
const PIPELINE_MAX = 1_000;
const VALUE_BYTES_MAX = 1_048_576;
const KEYSPACE_MAX = 100_000_000;
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

function chosenServers(only: string | undefined, floor: boolean): ServerName[] {
  const servers: ServerName[] = [];
  if (only === undefined) servers.push('redis', 'ringkv');
  else if (only === 'ringkv' || only === 'redis') servers.push(only);
  else throw new Error(`--only must be 'ringkv' or 'redis', got '${only}'`);
  if (floor) servers.push('floor');
  return servers;
}

/** Returns undefined when --help was asked for. Throws on invalid input. */
export function parseOptions(argv: readonly string[]): CompareOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'rounds': { type: 'string' },
      'tests': { type: 'string' },
      'pipelines': { type: 'string' },
      'requests': { type: 'string' },
      'pipelined-requests': { type: 'string' },
      'warmup': { type: 'string' },
      'clients': { type: 'string' },
      'value-bytes': { type: 'string' },
      'keyspace': { type: 'string' },
      'only': { type: 'string' },
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
  const pipelines = list('pipelines', values.pipelines, '1,16')
    .map((text) => integer('pipelines', text, 1, 1, PIPELINE_MAX));
  const options: CompareOptions = {
    rounds: integer('rounds', values.rounds, 5, 1, ROUNDS_MAX),
    tests,
    pipelines,
    requestsUnpipelined: integer('requests', values.requests, 200_000, 1, REQUESTS_MAX),
    requestsPipelined: integer('pipelined-requests', values['pipelined-requests'], 1_000_000,
      1, REQUESTS_MAX),
    warmupRequests: integer('warmup', values.warmup, 50_000, 0, REQUESTS_MAX),
    clients: integer('clients', values.clients, 50, 1, CLIENTS_MAX),
    valueBytes: integer('value-bytes', values['value-bytes'], 100, 1, VALUE_BYTES_MAX),
    keyspace: integer('keyspace', values.keyspace, 100_000, 1, KEYSPACE_MAX),
    servers: chosenServers(values.only, values.floor === true),
    write: values.write === true,
    resultsPath: values.results ?? 'bench/RESULTS.md',
    profile: values.profile === true,
    profileTop: integer('profile-top', values['profile-top'], 25, 1, PROFILE_TOP_MAX),
    profileOut: values['profile-out'],
  };
  checkCombinations(options);
  return options;
}

function checkCombinations(options: CompareOptions): void {
  // A recorded result must be a comparison made under the same conditions as the targets.
  if (options.write && !comparesBoth(options.servers)) {
    throw new Error('--write needs both servers (drop --only)');
  }
  if (options.write && options.profile) {
    throw new Error('--write and --profile exclude each other: profiling slows RingKV down');
  }
  if (options.profile && !options.servers.includes('ringkv')) {
    throw new Error('--profile profiles RingKV; it cannot be combined with --only redis');
  }
  if (options.profileOut !== undefined && !options.profile) {
    throw new Error('--profile-out needs --profile');
  }
}

export function requestsFor(options: CompareOptions, pipeline: number): number {
  return pipeline === 1 ? options.requestsUnpipelined : options.requestsPipelined;
}
