/**
 * Runs redis-benchmark (7.x) with --csv and parses its output. The CSV columns are looked up
 * by header name rather than position, so an added or reordered column in another
 * redis-benchmark release cannot silently shift the numbers.
 */
import { spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.js';

export interface BenchmarkRow {
  /** As redis-benchmark names it: "SET", "GET", ... */
  readonly test: string;
  readonly rps: number;
  readonly avgMs: number | undefined;
  readonly p50Ms: number;
  readonly p95Ms: number | undefined;
  readonly p99Ms: number;
  readonly maxMs: number | undefined;
}

export interface BenchmarkRun {
  readonly port: number;
  readonly tests: readonly string[];
  readonly pipeline: number;
  readonly requests: number;
  readonly clients: number;
  readonly valueBytes: number;
  readonly keyspace: number;
  /**
   * `--cluster`: redis-benchmark reads the slot map from the node at `port` and sends each
   * client's keys to the node that owns their slot.
   */
  readonly cluster?: boolean;
}

/** A run is meant to take seconds; a wedged server must not hang the benchmark forever. */
const RUN_TIMEOUT_MS = 15 * 60_000;
/** Enough of stderr to explain a failure, bounded so a chatty failure cannot eat memory. */
const STDERR_KEPT_BYTES = 8_192;

export function benchmarkArgs(run: BenchmarkRun): string[] {
  return ['-h', '127.0.0.1', '-p', String(run.port), '-t', run.tests.join(','),
    '-c', String(run.clients), '-n', String(run.requests), '-d', String(run.valueBytes),
    '-r', String(run.keyspace), '-P', String(run.pipeline), '--csv',
    ...(run.cluster === true ? ['--cluster'] : [])];
}

export async function runRedisBenchmark(run: BenchmarkRun, cleanup: Cleanup):
    Promise<BenchmarkRow[]> {
  const args = benchmarkArgs(run);
  const output = await capture('redis-benchmark', args, cleanup);
  const rows = parseBenchmarkCsv(output.stdout);
  if (rows.length < run.tests.length) {
    throw new Error(`redis-benchmark ${args.join(' ')} reported ${rows.length} of `
      + `${run.tests.length} tests\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`);
  }
  return rows;
}

export interface Captured {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion with both outputs captured; killed on cleanup (Ctrl-C) and
 * after RUN_TIMEOUT_MS. Throws unless it exits with status 0.
 */
export async function capture(command: string, args: readonly string[], cleanup: Cleanup):
    Promise<Captured> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = cleanup.defer(`${command} (pid ${child.pid ?? '?'})`, () => {
    child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT_BYTES);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
      });
    if (code !== 0) {
      throw new Error(`${command} ${args.join(' ')} failed (code ${code}, signal ${signal})`
        + `\n${stderr}`);
    }
    return { stdout, stderr };
  } finally {
    clearTimeout(timer);
    forget();
  }
}

/** Splits one CSV line; fields may be quoted, with "" standing for a quote inside quotes. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields.map((value) => value.trim());
}

/**
 * Parses redis-benchmark --csv output. Lines before a header, blank lines and progress
 * lines (redis-benchmark rewrites them with \r) are skipped; a repeated header restarts the
 * column map.
 */
export function parseBenchmarkCsv(text: string): BenchmarkRow[] {
  const rows: BenchmarkRow[] = [];
  let columns: Map<string, number> | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.trim() === '') continue;
    const fields = splitCsvLine(line);
    if (fields[0]?.toLowerCase() === 'test' && fields.includes('rps')) {
      columns = new Map(fields.map((name, index) => [name, index]));
      continue;
    }
    if (columns === undefined || fields.length !== columns.size) continue;
    rows.push(rowFrom(fields, columns, line));
  }
  return rows;
}

function rowFrom(fields: readonly string[], columns: ReadonlyMap<string, number>,
    line: string): BenchmarkRow {
  const text = (name: string): string | undefined => {
    const index = columns.get(name);
    return index === undefined ? undefined : fields[index];
  };
  const optional = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (value === '' || !Number.isFinite(parsed)) {
      throw new Error(`redis-benchmark CSV: column ${name} is not a number in: ${line}`);
    }
    return parsed;
  };
  const required = (name: string): number => {
    const value = optional(name);
    if (value === undefined) throw new Error(`redis-benchmark CSV: no column ${name}: ${line}`);
    return value;
  };
  const test = text('test');
  if (test === undefined || test === '') throw new Error(`redis-benchmark CSV: no test: ${line}`);
  return {
    test,
    rps: required('rps'),
    avgMs: optional('avg_latency_ms'),
    p50Ms: required('p50_latency_ms'),
    p95Ms: optional('p95_latency_ms'),
    p99Ms: required('p99_latency_ms'),
    maxMs: optional('max_latency_ms'),
  };
}
