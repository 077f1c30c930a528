/**
 * The per-command cost below the protocol: a GET or SET as a KeyOperation through the
 * Coordinator, LocalStore and LmdbEngine (overlay, commit log, LMDB reads) into a
 * ReplyWriter, in one process, with no sockets and no other process competing for the
 * cores. It is what the redis-benchmark comparison cannot show on a shared 2-core machine:
 * whether a change to this path made it cheaper, measured to a few percent.
 *
 *   node dist/bench/micro/key-value-path.js [--rounds N] [--keys N]
 *
 * Keys and values as redis-benchmark's (`key:%012d`, 100 bytes, 100k keys). Each round
 * times batches of BATCH operations; between batches the event loop turns (untimed), so
 * writes are logged and handed to the writer thread as in the server. Reports the median
 * nanoseconds per operation over rounds. GETs read committed records from LMDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCommand, setCommand } from '../../src/commands/strings.js';
import type { Client } from '../../src/commands/spec.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { standaloneView } from '../../src/coordinator/cluster-view.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { systemClock } from '../../src/runtime/clock.js';
import { systemRandom } from '../../src/runtime/random.js';
import { median } from '../load/summary.js';
import { integerOption, machine } from './harness.js';
import { openStore } from './open-store.js';

const BATCH = 1000;
const VALUE = Buffer.alloc(100, 'x');

const rounds = integerOption(process.argv, '--rounds', 7, 100);
const keyCount = integerOption(process.argv, '--keys', 100_000, 10_000_000);
const keys = Array.from({ length: keyCount },
  (_, index) => Buffer.from(`key:${String(index).padStart(12, '0')}`));

const dir = mkdtempSync(join(tmpdir(), 'ringkv-kvpath-'));
const { engine, store } = await openStore(dir);
const coordinator = new Coordinator(store, systemClock, systemRandom, 1,
  standaloneView('bench'), {
    requestTimeoutMs: 5000, tombstoneGraceMs: 60_000, inflightMax: 10_000, hintedHandoff: false,
    sloppyQuorum: false, readRepairPercent: 0, speculativeRetryMs: 20,
  });

/** The parts of a connection GET and SET use: a writer, holds that release at once. */
const writer = new ReplyWriter();
const client = {
  db: 0,
  writer,
  consistency: { read: 'one', write: 'one' },
  server: { kv: coordinator, clock: systemClock },
  hold: () => null,
  durable: () => undefined,
  defer: () => null,
  deferredWriter: () => writer,
  fill: () => undefined,
} as unknown as Client;

let next = 0;
function randomKey(): Buffer {
  // A fixed stride through the keys: every key visited, no Math.random in the timed loop.
  next = (next + 7919) % keyCount;
  return keys[next] as Buffer;
}

const getArgs = [Buffer.from('GET'), keys[0] as Buffer];
const setArgs = [Buffer.from('SET'), keys[0] as Buffer, VALUE];

function runGet(): void {
  getArgs[1] = randomKey();
  getCommand(client, getArgs);
}

function runSet(): void {
  setArgs[1] = randomKey();
  setCommand(client, setArgs, writer);
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Median ns per operation of `batches` timed batches. */
async function timeBatches(operation: () => void, batches: number): Promise<number> {
  const perOperation: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < BATCH; index++) operation();
    perOperation.push(Number(process.hrtime.bigint() - started) / BATCH);
    writer.take();
    await turn();
  }
  return median(perOperation);
}

// Every key written and committed, so GETs read LMDB as on a warm server.
for (const key of keys) {
  setArgs[1] = key;
  setCommand(client, setArgs, writer);
  if (writer.length > 1 << 20) writer.take();
}
writer.take();
await engine.flush();

const results: Record<string, number[]> = { GET: [], SET: [] };
for (let round = 0; round < rounds; round++) {
  results.GET?.push(await timeBatches(runGet, 200));
  await engine.flush();
  results.SET?.push(await timeBatches(runSet, 200));
  await engine.flush();
}

console.log(`# key-value path (${rounds} rounds of 200 batches of ${BATCH}, ${keyCount} keys)\n`);
console.log(`${machine()}\n`);
console.log('| operation | median ns/op | min | max |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, values] of Object.entries(results)) {
  console.log(`| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ` +
    `${Math.max(...values).toFixed(0)} |`);
}
coordinator.stop();
await engine.close();
rmSync(dir, { recursive: true, force: true });
