/**
 * Failure-handling benchmark (issue 4), on real 3-node RingKV clusters on this machine:
 *
 * 1. Convergence after a node misses writes while down: kill -9 one node, write K keys at
 *    QUORUM through another, restart it, and time until its own copy holds all K keys:
 *    with hinted handoff (hints replayed) and without (one CLUSTER REPAIR on the node).
 * 2. Anti-entropy cost: on a cluster holding a base data set, a node misses D writes; a
 *    CLUSTER REPAIR moves how many bytes, compared with the bytes of records that differ.
 * 3. Join streaming: a 4th node joins a cluster holding S MB; streaming rate, and client
 *    latency (p50/p99 of one client's sequential GET/SET) before versus during streaming.
 *
 * There is no Redis equivalent to compare these with (a Redis replica resyncs by full or
 * partial copy of one master); the figures are absolute. Medians over --rounds.
 * Usage: node dist/bench/load/recovery.js [--keys 100000] [--base 20000] [--differing
 * 100,1000,10000] [--stream-mb 256] [--rounds 3] [--write]
 */
import { Redis } from 'ioredis';
import { parseInfo } from '../../test/helpers/clients.js';
import {
  expectString, startCluster, type Cluster, type ClusterNode,
} from '../../test/helpers/cluster.js';
import { REPOSITORY_ROOT } from '../../test/helpers/processes.js';
import { waitFor } from '../../test/helpers/wait.js';
import { describeMachine, formatMachine } from './machine.js';
import { commandLine, wrap } from './report-text.js';
import { writeSection } from './results-file.js';
import { markdownTable, median } from './summary.js';

const SCRIPT = 'dist/bench/load/recovery.js';
const VALUE_BYTES = 100;
const STREAM_VALUE_BYTES = 1024;
const PIPELINE = 500;
const WAIT_MS = 600_000;
/** No periodic anti-entropy: only hints, CLUSTER REPAIR or streaming move data. */
const QUIET_ARGS = ['--anti-entropy-interval', '86400000'];

interface Options {
  keys: number;
  base: number;
  differing: number[];
  streamMb: number;
  rounds: number;
  write: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { keys: 100_000, base: 20_000, differing: [100, 1000, 10_000],
    streamMb: 256, rounds: 3, write: false };
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1] ?? '';
    if (flag === '--write') options.write = true;
    else if (flag === '--keys') options.keys = Number(value);
    else if (flag === '--base') options.base = Number(value);
    else if (flag === '--differing') options.differing = value.split(',').map(Number);
    else if (flag === '--stream-mb') options.streamMb = Number(value);
    else if (flag === '--rounds') options.rounds = Number(value);
    else throw new Error(`unknown option ${String(flag)} (see the comment at the top)`);
    if (flag !== '--write') index++;
  }
  return options;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function info(node: ClusterNode): Promise<Map<string, string>> {
  const text = expectString(await node.call('INFO', 'everything'), 'INFO');
  return parseInfo(text);
}

async function field(node: ClusterNode, name: string): Promise<number> {
  return Number((await info(node)).get(name) ?? 0);
}

async function sumField(nodes: readonly ClusterNode[], name: string): Promise<number> {
  let total = 0;
  for (const node of nodes) if (node.running) total += await field(node, name);
  return total;
}

/** Keys in the node's own store (INFO keyspace; DBSIZE counts the slots it leads). */
async function localKeys(node: ClusterNode): Promise<number> {
  const text = expectString(await node.call('INFO', 'keyspace'), 'INFO keyspace');
  return Number(/db0:keys=(\d+)/.exec(text)?.[1] ?? 0);
}

/** Writes `count` keys `prefix:i` through `node` at QUORUM, pipelined. */
async function load(node: ClusterNode, prefix: string, count: number, valueBytes: number):
    Promise<void> {
  const client = new Redis({ port: node.port, host: node.host, lazyConnect: true });
  await client.connect();
  try {
    const value = Buffer.alloc(valueBytes, 'x');
    for (let start = 0; start < count; start += PIPELINE) {
      const pipeline = client.pipeline();
      for (let index = start; index < Math.min(count, start + PIPELINE); index++) {
        pipeline.set(`${prefix}:${index}`, value);
      }
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0] as Error;
    }
  } finally {
    client.disconnect();
  }
}

async function waitLocalKeys(node: ClusterNode, expected: number): Promise<void> {
  await waitFor(`${node.address} to hold ${expected} keys`, async () =>
    ((await localKeys(node)) >= expected ? true : undefined), WAIT_MS, 50);
}

async function waitRepairDone(node: ClusterNode, passesBefore: number): Promise<void> {
  await waitFor('the repair pass to end', async () => {
    const fields = await info(node);
    return Number(fields.get('anti_entropy_passes')) > passesBefore &&
      fields.get('anti_entropy_running') === '0' ? true : undefined;
  }, WAIT_MS, 50);
}

// 1. Convergence after missed writes ----------------------------------------------------------

interface ConvergenceSample {
  hints: boolean;
  loadMs: number;
  convergeMs: number;
  bytesMoved: number;
  hintsDelivered: number;
}

async function convergenceRound(keys: number, hints: boolean): Promise<ConvergenceSample> {
  const cluster = await startCluster({ nodes: 3,
    args: [...QUIET_ARGS, '--hinted-handoff', hints ? 'yes' : 'no'] });
  try {
    const [entry, , missing] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
    await missing.kill();
    await cluster.waitFailed(missing);
    const loadStarted = Date.now();
    await load(entry, 'missed', keys, VALUE_BYTES);
    const loadMs = Date.now() - loadStarted;
    const restarted = Date.now();
    await missing.start();
    if (!hints) {
      await cluster.waitConverged({ healthy: true });
      const passes = await field(missing, 'anti_entropy_passes');
      await missing.call('CLUSTER', 'REPAIR');
      await waitRepairDone(missing, passes);
    }
    await waitLocalKeys(missing, keys);
    if (hints) {
      await waitFor('hints to drain', async () =>
        ((await sumField(cluster.nodes, 'hints_pending')) === 0 ? true : undefined), WAIT_MS, 50);
    }
    const convergeMs = Date.now() - restarted;
    return { hints, loadMs, convergeMs,
      bytesMoved: await sumField(cluster.nodes, 'repair_bytes_moved'),
      hintsDelivered: await sumField(cluster.nodes, 'hints_delivered') };
  } finally {
    await cluster.stop();
  }
}

// 2. Anti-entropy bytes versus differing data --------------------------------------------------

interface RepairSample {
  differing: number;
  differingBytes: number;
  bytesMoved: number;
  summaryBytes: number;
  slotsRepaired: number;
  repairMs: number;
}

async function repairRound(cluster: Cluster, differing: number, round: number):
    Promise<RepairSample> {
  const [entry, , missing] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  await missing.kill();
  await cluster.waitFailed(missing);
  await load(entry, `diff${round}-${differing}`, differing, VALUE_BYTES);
  await missing.start();
  await cluster.waitConverged({ healthy: true });
  const before = await sumField(cluster.nodes, 'repair_bytes_moved');
  const summaryBefore = await sumField(cluster.nodes, 'repair_summary_bytes');
  const slotsBefore = await sumField(cluster.nodes, 'repair_slots_repaired');
  const passes = await field(missing, 'anti_entropy_passes');
  const started = Date.now();
  await missing.call('CLUSTER', 'REPAIR');
  await waitRepairDone(missing, passes);
  const repairMs = Date.now() - started;
  const keyBytes = `diff${round}-${differing}:${differing}`.length;
  return {
    differing,
    differingBytes: differing * (VALUE_BYTES + keyBytes),
    bytesMoved: (await sumField(cluster.nodes, 'repair_bytes_moved')) - before,
    summaryBytes: (await sumField(cluster.nodes, 'repair_summary_bytes')) - summaryBefore,
    slotsRepaired: (await sumField(cluster.nodes, 'repair_slots_repaired')) - slotsBefore,
    repairMs,
  };
}

// 3. Join streaming ---------------------------------------------------------------------------

interface StreamingSample {
  dataMb: number;
  streamMs: number;
  bytesReceived: number;
  slots: number;
  beforeP50: number;
  beforeP99: number;
  duringP50: number;
  duringP99: number;
}

function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

/** One client's sequential GET/SET latencies (ms) until `stop` says so. */
async function probe(node: ClusterNode, keys: number, stop: () => boolean):
    Promise<number[]> {
  const client = new Redis({ port: node.port, host: node.host, lazyConnect: true });
  await client.connect();
  const latencies: number[] = [];
  try {
    for (let index = 0; !stop(); index++) {
      const key = `stream:${(index * 7919) % keys}`;
      const started = performance.now();
      if (index % 2 === 0) await client.get(key);
      else await client.set(`probe:${index % 1000}`, 'x');
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    client.disconnect();
  }
  return latencies;
}

async function streamingRound(streamMb: number): Promise<StreamingSample> {
  const cluster = await startCluster({ nodes: 3, args: QUIET_ARGS });
  try {
    const keys = Math.round(streamMb * 1024 * 1024 / STREAM_VALUE_BYTES);
    const entry = cluster.node(0);
    await load(entry, 'stream', keys, STREAM_VALUE_BYTES);
    let stopBefore = false;
    const before = probe(entry, keys, () => stopBefore);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    stopBefore = true;
    const beforeLatencies = await before;

    let stopDuring = false;
    const during = probe(entry, keys, () => stopDuring);
    const started = Date.now();
    const joined = await cluster.addNode();
    await cluster.waitConverged();
    await waitFor('the new node to start streaming', async () =>
      ((await field(joined, 'streaming_slots_total')) > 0 ? true : undefined), WAIT_MS, 20);
    await waitFor('streaming to finish', async () => {
      const fields = await info(joined);
      return fields.get('streaming_state') === 'idle' ? true : undefined;
    }, WAIT_MS, 50);
    const streamMs = Date.now() - started;
    stopDuring = true;
    const duringLatencies = await during;
    const fields = await info(joined);
    return {
      dataMb: streamMb,
      streamMs,
      bytesReceived: Number(fields.get('repair_bytes_moved')),
      slots: Number(fields.get('streaming_slots_done')),
      beforeP50: percentile(beforeLatencies, 0.5),
      beforeP99: percentile(beforeLatencies, 0.99),
      duringP50: percentile(duringLatencies, 0.5),
      duringP99: percentile(duringLatencies, 0.99),
    };
  } finally {
    await cluster.stop();
  }
}

// Report --------------------------------------------------------------------------------------

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const ms = (value: number): string => value.toFixed(value < 10 ? 2 : 0);

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const convergence: ConvergenceSample[] = [];
  const repairs: RepairSample[] = [];
  const streams: StreamingSample[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const hints of [true, false]) {
      const sample = await convergenceRound(options.keys, hints);
      log(`round ${round} hints ${hints ? 'on' : 'off'}: converged in ${sample.convergeMs} ms ` +
        `(${options.keys} keys loaded in ${sample.loadMs} ms), ${mb(sample.bytesMoved)} MB ` +
        `repaired, ${sample.hintsDelivered} hints delivered`);
      convergence.push(sample);
    }
    const cluster = await startCluster({ nodes: 3, args: [...QUIET_ARGS, '--hinted-handoff',
      'no'] });
    try {
      await load(cluster.node(0), `base${round}`, options.base, VALUE_BYTES);
      for (const differing of options.differing) {
        const sample = await repairRound(cluster, differing, round);
        log(`round ${round} repair of ${differing} differing keys: ${sample.bytesMoved} + ` +
          `${sample.summaryBytes} bytes moved for ${sample.differingBytes} differing, ` +
          `${sample.slotsRepaired} slots, ` +
          `${sample.repairMs} ms`);
        repairs.push(sample);
      }
    } finally {
      await cluster.stop();
    }
    const stream = await streamingRound(options.streamMb);
    log(`round ${round} join streaming of ${options.streamMb} MB: ${stream.streamMs} ms, ` +
      `${mb(stream.bytesReceived)} MB received, p99 ${ms(stream.beforeP99)} -> ` +
      `${ms(stream.duringP99)} ms`);
    streams.push(stream);
  }

  const medianOf = <T>(samples: readonly T[], pick: (sample: T) => number): number =>
    median(samples.map(pick));
  const convergenceRows = [true, false].map((hints) => {
    const samples = convergence.filter((sample) => sample.hints === hints);
    return [hints ? 'on' : 'off (CLUSTER REPAIR)', String(options.keys),
      String(medianOf(samples, (sample) => sample.convergeMs)),
      mb(medianOf(samples, (sample) => sample.bytesMoved)),
      String(medianOf(samples, (sample) => sample.hintsDelivered))];
  });
  const repairRows = options.differing.map((differing) => {
    const samples = repairs.filter((sample) => sample.differing === differing);
    const moved = medianOf(samples, (sample) => sample.bytesMoved);
    const summaries = medianOf(samples, (sample) => sample.summaryBytes);
    const differingBytes = medianOf(samples, (sample) => sample.differingBytes);
    return [String(differing), String(differingBytes), String(moved), String(summaries),
      ((moved + summaries) / differingBytes).toFixed(2),
      String(medianOf(samples, (sample) => sample.slotsRepaired)),
      String(medianOf(samples, (sample) => sample.repairMs))];
  });
  const streamMs = medianOf(streams, (sample) => sample.streamMs);
  const received = medianOf(streams, (sample) => sample.bytesReceived);
  const streamRows = [[String(options.streamMb), String(streamMs), mb(received),
    (received / 1024 / 1024 / (streamMs / 1000)).toFixed(1),
    ms(medianOf(streams, (sample) => sample.beforeP50)),
    ms(medianOf(streams, (sample) => sample.beforeP99)),
    ms(medianOf(streams, (sample) => sample.duringP50)),
    ms(medianOf(streams, (sample) => sample.duringP99))]];

  const report = [
    '## Recovery: hints, anti-entropy, join streaming',
    '',
    `Command: \`${commandLine(SCRIPT)}\` (medians of ${options.rounds} rounds; each round ` +
      'starts fresh 3-node clusters, N = 3, QUORUM, gossip every 200 ms, periodic ' +
      'anti-entropy off so only the mechanism measured moves data; repair-bytes-per-second ' +
      'at its default, 16 MiB/s).',
    '',
    formatMachine(describeMachine(REPOSITORY_ROOT)),
    '',
    '### A node misses writes while down (kill -9), then restarts',
    '',
    markdownTable(['hinted handoff', 'writes missed', 'restart to converged (ms)',
      'repair MB moved', 'hints delivered'], convergenceRows),
    '',
    '### Anti-entropy bytes versus differing data',
    '',
    wrap(`Base data set ${options.base} keys of ${VALUE_BYTES} bytes on every replica; one ` +
      'node misses D new keys (hints off), then CLUSTER REPAIR on it. Record bytes: records ' +
      'pulled and pushed (header + key + value); summary bytes: Merkle block hashes, slot ' +
      'digests and per-slot key/version lists received, summed over the nodes.'),
    '',
    markdownTable(['D keys differing', 'differing bytes', 'record bytes moved',
      'summary bytes', 'total / differing',
      'slots repaired', 'repair ms'], repairRows),
    '',
    '### A 4th node joins',
    '',
    wrap(`The cluster holds ${options.streamMb} MB of values (${STREAM_VALUE_BYTES}-byte ` +
      'values, each on all 3 replicas); the new node pulls the slots it gains. Latency: one ' +
      'client doing sequential GET/SET through node 0, 5 s before the join and during it.'),
    '',
    markdownTable(['data MB', 'streaming ms', 'MB received', 'MB/s', 'p50 before',
      'p99 before', 'p50 during', 'p99 during'], streamRows),
  ].join('\n');
  log(`\n${report}`);
  if (options.write) {
    writeSection(`${REPOSITORY_ROOT}/bench/RESULTS.md`, 'recovery', report);
    log('written to bench/RESULTS.md');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
