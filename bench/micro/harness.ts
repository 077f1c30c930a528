/**
 * Shared pieces of the micro-benchmarks (STYLE.md section 11): a benchmark is a named
 * function whose inputs were built beforehand; `measure` runs it with Benchmark.js and
 * `runStandalone` lets each *.bench.ts file run on its own as well as from run.ts.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import Benchmark from 'benchmark';

export interface MicroBenchmark {
  /** Groups benchmarks in the table (decoder, encoder, ...). */
  suite: string;
  name: string;
  /** The measured operation; everything it reads was built before. */
  fn: () => void;
  /** Optional self-check run once before measuring, so we never time a broken path. */
  check?: () => void;
}

export interface Measurement {
  suite: string;
  name: string;
  opsPerSecond: number;
  /** Relative margin of error of this run, in percent. */
  rmePercent: number;
  samples: number;
}

/** Benchmark.js settings: enough samples for a stable mean without minutes per file. */
const OPTIONS = { minSamples: 20, maxTime: 1.5, initCount: 10 };

export function measure(benchmark: MicroBenchmark): Measurement {
  benchmark.check?.();
  const run = new Benchmark(benchmark.name, benchmark.fn, { ...OPTIONS, async: false });
  run.run({ async: false });
  // Benchmark.js keeps a failure in `error` (its own type says Error, but it is unset on
  // success), so check it before trusting hz.
  const failure: unknown = run.error;
  if (failure instanceof Error) {
    throw new Error(`${benchmark.suite} / ${benchmark.name}: ${failure.message}`);
  }
  return {
    suite: benchmark.suite,
    name: benchmark.name,
    opsPerSecond: run.hz,
    rmePercent: run.stats.rme,
    samples: run.stats.sample.length,
  };
}

export interface Summary {
  suite: string;
  name: string;
  opsPerSecond: number;
  nsPerOp: number;
  /** Spread of ops/s over the rounds: (max - min) / median, in percent. */
  spreadPercent: number;
  rmePercent: number;
  rounds: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle] as number
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Runs every benchmark `rounds` times, interleaved (round 1 of all, then round 2, ...) so a
 * burst of load from other processes on the shared machine hits all of them alike, and
 * reports medians.
 */
export function runAll(benchmarks: readonly MicroBenchmark[], rounds: number,
    progress: (line: string) => void = () => undefined): Summary[] {
  const runs = new Map<MicroBenchmark, Measurement[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const benchmark of benchmarks) {
      const result = measure(benchmark);
      runs.set(benchmark, [...(runs.get(benchmark) ?? []), result]);
      progress(`round ${round}/${rounds}  ${benchmark.suite} / ${benchmark.name}: ` +
        `${Math.round(result.opsPerSecond).toLocaleString('en-US')} ops/s ` +
        `±${result.rmePercent.toFixed(1)}%`);
    }
  }
  return benchmarks.map((benchmark) => {
    const results = runs.get(benchmark) ?? [];
    const rates = results.map((result) => result.opsPerSecond);
    const opsPerSecond = median(rates);
    return {
      suite: benchmark.suite,
      name: benchmark.name,
      opsPerSecond,
      nsPerOp: 1e9 / opsPerSecond,
      spreadPercent: (Math.max(...rates) - Math.min(...rates)) / opsPerSecond * 100,
      rmePercent: median(results.map((result) => result.rmePercent)),
      rounds: results.length,
    };
  });
}

function formatRate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function formatNs(value: number): string {
  if (value >= 100_000) return Math.round(value).toLocaleString('en-US');
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** A Markdown table of the summaries. */
export function table(summaries: readonly Summary[]): string {
  const lines = [
    '| suite | benchmark | ops/s (median) | ns/op | spread | ±rme | rounds |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of summaries) {
    lines.push(`| ${row.suite} | ${row.name} | ${formatRate(row.opsPerSecond)} | ` +
      `${formatNs(row.nsPerOp)} | ${row.spreadPercent.toFixed(0)}% | ` +
      `${row.rmePercent.toFixed(1)}% | ${row.rounds} |`);
  }
  return lines.join('\n');
}

/** Machine and runtime, to print next to the numbers (compare only like with like). */
export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = loadavg().map((value) => value.toFixed(2)).join(' / ');
  return `Node ${process.version}, ${cpu}, ${availableParallelism()} cores, ` +
    `load average ${load}`;
}

/** Reads `--rounds N` (default 3) and filter words from the command line. */
export function commandLine(argv: readonly string[]): { rounds: number; filters: string[] } {
  let rounds = 3;
  const filters: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--rounds') {
      rounds = Math.max(1, Number(argv[++index] ?? '3') || 3);
    } else {
      filters.push(arg.toLowerCase());
    }
  }
  return { rounds, filters };
}

export function select(benchmarks: readonly MicroBenchmark[],
    filters: readonly string[]): MicroBenchmark[] {
  if (filters.length === 0) return [...benchmarks];
  return benchmarks.filter((benchmark) => filters.some((filter) =>
    `${benchmark.suite} ${benchmark.name}`.toLowerCase().includes(filter)));
}

/** Runs a file's benchmarks when that file is the entry point (node dist/.../x.bench.js). */
export function runStandalone(moduleUrl: string, benchmarks: readonly MicroBenchmark[]): void {
  const entry = process.argv[1];
  if (entry === undefined || pathToFileURL(entry).href !== moduleUrl) return;
  const { rounds, filters } = commandLine(process.argv.slice(2));
  console.log(machine());
  const summaries = runAll(select(benchmarks, filters), rounds,
    (line) => process.stderr.write(`${line}\n`));
  console.log(table(summaries));
}

/** Keeps results observable so the optimiser cannot drop the measured work. */
export const sink = { value: 0 };

/** An integer command-line option `name N` from 1 to `max`, or `fallback` when absent. */
export function integerOption(argv: readonly string[], name: string, fallback: number,
    max: number): number {
  const index = argv.indexOf(name);
  const value = index === -1 ? fallback : Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name} must be an integer from 1 to ${max}`);
  }
  return value;
}
