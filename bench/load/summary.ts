/**
 * Turns per-round redis-benchmark rows into medians, the RingKV/Redis ratio and the target
 * check. Medians, not means: the machine is shared and one disturbed round must not move
 * the result.
 */
import { comparesBoth, SERVER_LABELS, SERVER_NAMES, type ServerName } from './options.js';
import type { BenchmarkRow } from './redis-benchmark.js';

export interface Sample {
  readonly round: number;
  readonly server: ServerName;
  readonly pipeline: number;
  readonly row: BenchmarkRow;
}

export interface ServerFigures {
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rounds: number;
}

export interface Aggregate {
  readonly test: string;
  readonly pipeline: number;
  readonly figures: ReadonlyMap<ServerName, ServerFigures>;
  /** Median RingKV req/s over median Redis req/s; undefined unless both ran. */
  readonly ratio: number | undefined;
  /** Median Node floor req/s over median Redis req/s; undefined unless both ran. */
  readonly floorRatio: number | undefined;
}

export interface TargetCheck {
  readonly description: string;
  readonly measured: string;
  /** undefined: the configuration the target is about was not measured. */
  readonly met: boolean | undefined;
}

/** The performance targets RingKV is held to (single node, appendfsync everysec). */
export const TARGETS = {
  unpipelinedRatioMin: 0.9,
  pipelinedDepth: 16,
  pipelinedRatioMin: 0.7,
  unpipelinedP99MsMax: 2,
} as const;

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? 0) + upper) / 2;
}

function figuresOf(samples: readonly Sample[]): ServerFigures {
  const rps = samples.map((sample) => sample.row.rps);
  return {
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    p50Ms: median(samples.map((sample) => sample.row.p50Ms)),
    p99Ms: median(samples.map((sample) => sample.row.p99Ms)),
    rounds: samples.length,
  };
}

/** One aggregate per (pipeline, test), in pipeline order, tests in the order they ran. */
export function aggregate(samples: readonly Sample[]): Aggregate[] {
  const groups = new Map<string, Sample[]>();
  for (const sample of samples) {
    const key = `${sample.pipeline}\u0000${sample.row.test}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [sample]);
    else group.push(sample);
  }
  const aggregates: Aggregate[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (first === undefined) continue;
    const figures = new Map<ServerName, ServerFigures>();
    for (const server of SERVER_NAMES) {
      const mine = group.filter((sample) => sample.server === server);
      if (mine.length > 0) figures.set(server, figuresOf(mine));
    }
    const redis = figures.get('redis');
    const ringkv = figures.get('ringkv');
    const floor = figures.get('floor');
    const ratio = redis !== undefined && ringkv !== undefined ? ringkv.rps / redis.rps : undefined;
    const floorRatio = redis !== undefined && floor !== undefined ? floor.rps / redis.rps
      : undefined;
    aggregates.push({ test: first.row.test, pipeline: first.pipeline, figures, ratio,
      floorRatio });
  }
  return aggregates.sort((a, b) => a.pipeline - b.pipeline);
}

export function formatRps(rps: number): string {
  return Math.round(rps).toLocaleString('en-US');
}

export function formatMs(ms: number): string {
  return ms.toFixed(3);
}

export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  // Numbers right-aligned so digits line up when rendered; names left-aligned.
  const numeric = (index: number): boolean =>
    rows.every((row) => /^([\d,.]+|n\/a)$/.test(row[index] ?? ''));
  const rule = header.map((_, index) => (numeric(index) ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** The main table: medians per server, side by side, and the throughput ratio. */
export function formatAggregates(aggregates: readonly Aggregate[],
    servers: readonly ServerName[]): string {
  const both = comparesBoth(servers);
  const floor = servers.includes('floor') && servers.includes('redis');
  const header = ['test', '-P'];
  for (const server of servers) header.push(`${SERVER_LABELS[server]} req/s`);
  if (both) header.push('RingKV/Redis');
  if (floor) header.push('floor/Redis');
  for (const server of servers) header.push(`${SERVER_LABELS[server]} p50 ms`);
  for (const server of servers) header.push(`${SERVER_LABELS[server]} p99 ms`);
  const rows = aggregates.map((entry) => {
    const cell = (server: ServerName, pick: (figures: ServerFigures) => string): string => {
      const figures = entry.figures.get(server);
      return figures === undefined ? 'n/a' : pick(figures);
    };
    const row = [entry.test, String(entry.pipeline)];
    for (const server of servers) row.push(cell(server, (f) => formatRps(f.rps)));
    if (both) row.push(entry.ratio === undefined ? 'n/a' : entry.ratio.toFixed(2));
    if (floor) row.push(entry.floorRatio === undefined ? 'n/a' : entry.floorRatio.toFixed(2));
    for (const server of servers) row.push(cell(server, (f) => formatMs(f.p50Ms)));
    for (const server of servers) row.push(cell(server, (f) => formatMs(f.p99Ms)));
    return row;
  });
  return markdownTable(header, rows);
}

/** Every round, so a reader can judge the spread behind the medians. */
export function formatSamples(samples: readonly Sample[]): string {
  const optional = (value: number | undefined): string =>
    value === undefined ? 'n/a' : formatMs(value);
  const rows = [...samples]
    .sort((a, b) => a.pipeline - b.pipeline || a.row.test.localeCompare(b.row.test)
      || a.round - b.round || a.server.localeCompare(b.server))
    .map((sample) => [sample.row.test, String(sample.pipeline), String(sample.round),
      SERVER_LABELS[sample.server], formatRps(sample.row.rps), optional(sample.row.avgMs),
      formatMs(sample.row.p50Ms), optional(sample.row.p95Ms), formatMs(sample.row.p99Ms),
      optional(sample.row.maxMs)]);
  return markdownTable(['test', '-P', 'round', 'server', 'req/s', 'avg ms', 'p50 ms', 'p95 ms',
    'p99 ms', 'max ms'], rows);
}

function ratioCheck(aggregates: readonly Aggregate[], pipeline: number, minimum: number):
    TargetCheck[] {
  const entries = aggregates.filter((entry) => entry.pipeline === pipeline);
  const description = `RingKV ≥ ${minimum} × Redis throughput at -P ${pipeline}`;
  if (entries.length === 0) return [{ description, measured: 'not measured', met: undefined }];
  return entries.map((entry) => ({
    description: `${entry.test}: ${description}`,
    measured: entry.ratio === undefined ? 'no ratio' : `${entry.ratio.toFixed(2)} ×`,
    met: entry.ratio === undefined ? undefined : entry.ratio >= minimum,
  }));
}

export function targetChecks(aggregates: readonly Aggregate[]): TargetCheck[] {
  const checks = [
    ...ratioCheck(aggregates, 1, TARGETS.unpipelinedRatioMin),
    ...ratioCheck(aggregates, TARGETS.pipelinedDepth, TARGETS.pipelinedRatioMin),
  ];
  const description = `RingKV p99 < ${TARGETS.unpipelinedP99MsMax} ms at -P 1`;
  const unpipelined = aggregates.filter((entry) => entry.pipeline === 1);
  if (unpipelined.length === 0) checks.push({ description, measured: 'not measured',
    met: undefined });
  for (const entry of unpipelined) {
    const ringkv = entry.figures.get('ringkv');
    checks.push({
      description: `${entry.test}: ${description}`,
      measured: ringkv === undefined ? 'not measured' : `${formatMs(ringkv.p99Ms)} ms`,
      met: ringkv === undefined ? undefined : ringkv.p99Ms < TARGETS.unpipelinedP99MsMax,
    });
  }
  return checks;
}

export function formatTargetChecks(checks: readonly TargetCheck[]): string {
  return checks.map((check) => {
    const verdict = check.met === undefined ? 'not measured' : check.met ? 'met' : 'NOT MET';
    return `- ${check.description}: ${check.measured} — **${verdict}**`;
  }).join('\n');
}
