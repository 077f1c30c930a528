/**
 * Turns cluster-compare.ts's per-round redis-benchmark rows into medians per test, system
 * and routing, the ratios to Redis Cluster, and the QUORUM target check. Medians, not means:
 * the machine is shared and one disturbed round must not move the result.
 */
import {
  levelName, QUORUM, ROUTING_LABELS, ROUTINGS, type Level, type Routing,
} from './cluster-options.js';
import type { BenchmarkRow } from './redis-benchmark.js';
import {
  formatMs, formatRps, markdownTable, median, type TargetCheck,
} from './summary.js';

export interface System {
  /** 'redis', 'floor' or 'ringkv-R-W'. */
  readonly id: string;
  readonly label: string;
  /** RingKV's read/write levels; undefined for Redis Cluster and the Node floor. */
  readonly level: Level | undefined;
}

export const REDIS_CLUSTER: System = { id: 'redis', label: 'Redis Cluster', level: undefined };

/** cluster-floor.ts: three Node processes exchanging a QUORUM cluster's messages, no more. */
export const NODE_FLOOR: System = { id: 'floor', label: 'Node floor', level: undefined };

export function ringkvSystem(level: Level): System {
  return { id: `ringkv-${level.read}-${level.write}`, label: 'RingKV', level };
}

/** What the system can be asked through: Redis Cluster nodes answer MOVED for foreign keys. */
export function supports(system: System, routing: Routing): boolean {
  return system.id !== REDIS_CLUSTER.id || routing === 'cluster';
}

export interface ClusterSample {
  readonly round: number;
  readonly system: System;
  readonly routing: Routing;
  readonly row: BenchmarkRow;
}

export interface Figures {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rounds: number;
}

export interface Entry {
  readonly test: string;
  readonly system: System;
  readonly routing: Routing;
  /** undefined: not measured (Redis Cluster through a single entry node). */
  readonly figures: Figures | undefined;
  /** Median req/s over Redis Cluster's, for --cluster routing only. */
  readonly rpsRatio: number | undefined;
  /** Median p99 over Redis Cluster's, for --cluster routing only. */
  readonly p99Ratio: number | undefined;
}

/** The target RingKV is held to at QUORUM with --cluster routing (N = 3). */
export const CLUSTER_TARGETS = {
  level: QUORUM,
  routing: 'cluster',
  p99MsMax: 10,
  rpsRatioMin: 0.5,
} as const;

function figuresOf(rows: readonly BenchmarkRow[]): Figures | undefined {
  if (rows.length === 0) return undefined;
  return {
    rps: median(rows.map((row) => row.rps)),
    p50Ms: median(rows.map((row) => row.p50Ms)),
    p99Ms: median(rows.map((row) => row.p99Ms)),
    rounds: rows.length,
  };
}

/**
 * One entry per test (in the order they ran), system (in the order given) and routing,
 * including combinations that were not measured, so the table shows them as n/a.
 */
export function aggregateCluster(samples: readonly ClusterSample[], systems: readonly System[],
    routings: readonly Routing[]): Entry[] {
  const tests = [...new Set(samples.map((sample) => sample.row.test))];
  const entries: Entry[] = [];
  for (const test of tests) {
    const rowsOf = (system: System, routing: Routing): BenchmarkRow[] => samples
      .filter((sample) => sample.row.test === test && sample.system.id === system.id
        && sample.routing === routing)
      .map((sample) => sample.row);
    const redis = figuresOf(rowsOf(REDIS_CLUSTER, 'cluster'));
    for (const system of systems) {
      for (const routing of routings) {
        const figures = figuresOf(rowsOf(system, routing));
        const compared = routing === 'cluster' && figures !== undefined && redis !== undefined;
        entries.push({ test, system, routing, figures,
          rpsRatio: compared ? figures.rps / redis.rps : undefined,
          p99Ratio: compared ? figures.p99Ms / redis.p99Ms : undefined });
      }
    }
  }
  return entries;
}

function levelCell(system: System): string {
  return system.level === undefined ? '—' : levelName(system.level);
}

function ratioCell(ratio: number | undefined): string {
  return ratio === undefined ? 'n/a' : ratio.toFixed(2);
}

export function formatEntries(entries: readonly Entry[]): string {
  const rows = entries.map((entry) => {
    const figures = entry.figures;
    // Kept as a row so the table says why there is no number.
    const moved = supports(entry.system, entry.routing) ? '' : ' (MOVED: n/a)';
    return [entry.test, entry.system.label, levelCell(entry.system),
      `${ROUTING_LABELS[entry.routing]}${moved}`,
      figures === undefined ? 'n/a' : formatRps(figures.rps),
      figures === undefined ? 'n/a' : formatMs(figures.p50Ms),
      figures === undefined ? 'n/a' : formatMs(figures.p99Ms),
      ratioCell(entry.rpsRatio), ratioCell(entry.p99Ratio)];
  });
  return markdownTable(['test', 'system', 'R/W', 'routing', 'req/s', 'p50 ms', 'p99 ms',
    'req/s ÷ Redis Cluster', 'p99 ÷ Redis Cluster'], rows);
}

/** Every round, so a reader can judge the spread behind the medians. */
export function formatClusterSamples(samples: readonly ClusterSample[]): string {
  const optional = (value: number | undefined): string =>
    value === undefined ? 'n/a' : formatMs(value);
  // Tests in the order they ran, as in the medians table; then system, routing and round.
  const tests = [...new Set(samples.map((sample) => sample.row.test))];
  const rows = [...samples]
    .sort((a, b) => tests.indexOf(a.row.test) - tests.indexOf(b.row.test)
      || a.system.id.localeCompare(b.system.id)
      || ROUTINGS.indexOf(a.routing) - ROUTINGS.indexOf(b.routing) || a.round - b.round)
    .map((sample) => [sample.row.test, sample.system.label, levelCell(sample.system),
      ROUTING_LABELS[sample.routing], String(sample.round), formatRps(sample.row.rps),
      optional(sample.row.avgMs), formatMs(sample.row.p50Ms), optional(sample.row.p95Ms),
      formatMs(sample.row.p99Ms), optional(sample.row.maxMs)]);
  return markdownTable(['test', 'system', 'R/W', 'routing', 'round', 'req/s', 'avg ms',
    'p50 ms', 'p95 ms', 'p99 ms', 'max ms'], rows);
}

export function clusterTargetChecks(entries: readonly Entry[]): TargetCheck[] {
  const { level, routing, p99MsMax, rpsRatioMin } = CLUSTER_TARGETS;
  const where = `RingKV ${levelName(level)} with ${ROUTING_LABELS[routing]}`;
  const targeted = entries.filter((entry) => entry.routing === routing
    && entry.system.level !== undefined && levelName(entry.system.level) === levelName(level));
  if (targeted.length === 0) {
    return [{ description: `${where}: p99 < ${p99MsMax} ms and ≥ ${rpsRatioMin} × Redis `
      + 'Cluster throughput', measured: 'not measured', met: undefined }];
  }
  return targeted.flatMap((entry): TargetCheck[] => [
    {
      description: `${entry.test}: ${where}: p99 < ${p99MsMax} ms`,
      measured: entry.figures === undefined ? 'not measured'
        : `${formatMs(entry.figures.p99Ms)} ms`,
      met: entry.figures === undefined ? undefined : entry.figures.p99Ms < p99MsMax,
    },
    {
      description: `${entry.test}: ${where}: ≥ ${rpsRatioMin} × Redis Cluster throughput`,
      // Three decimals: 0.499 must not read as a met 0.50.
      measured: entry.rpsRatio === undefined ? 'no ratio' : `${entry.rpsRatio.toFixed(3)} ×`,
      met: entry.rpsRatio === undefined ? undefined : entry.rpsRatio >= rpsRatioMin,
    },
  ]);
}
