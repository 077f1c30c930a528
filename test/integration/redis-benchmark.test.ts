/**
 * redis-benchmark 7.0 short runs against a real RingKV node: every test we can serve
 * (inline and multibulk PING, SET, GET, INCR, MSET) completes with a positive rate and no
 * error replies, with and without pipelining, and the CONFIG GET it sends first works.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connectIoredis, infoField, parseInfo, runTool, type TestRedis,
} from '../helpers/clients.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';

const REQUESTS = 2000;
const TESTS = ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'MSET'];

let node: ServerProcess;
let client: TestRedis;
/** INCRs redis-benchmark has sent so far (all to the key counter:__rand_int__). */
let incrementsSent = 0;

before(async () => {
  node = await startNode();
  client = await connectIoredis(node.port);
});

after(async () => {
  client?.disconnect();
  await node?.stop();
  node?.cleanup();
});

async function benchmark(extra: readonly string[]): Promise<string> {
  const result = await runTool('redis-benchmark', ['-p', String(node.port), '-n',
    String(REQUESTS), '-c', '10', '-t', TESTS.join(',').toLowerCase(), ...extra],
  { timeoutMs: 40_000 });
  const output = result.stdout + result.stderr;
  assert.equal(result.code, 0, output);
  // redis-benchmark 7 stops at the first error reply and prints it; none may occur, and
  // neither may the warning it prints when CONFIG GET fails.
  assert.doesNotMatch(output, /Error from server/i);
  assert.doesNotMatch(output, /WARNING/);
  if (extra.includes('-q') || extra.includes('--csv')) {
    incrementsSent += REQUESTS;
  }
  return output;
}

async function errorReplies(): Promise<number> {
  return Number(infoField(parseInfo(await client.info('stats')), 'total_error_replies'));
}

/** Rates from -q output: `NAME: 12345.67 requests per second, p50=...` after \r progress. */
function quietRates(output: string): Map<string, number> {
  const rates = new Map<string, number>();
  for (const segment of output.split(/[\r\n]/)) {
    const match = /^\s*([A-Z_]+)(?: \(\d+ keys\))?: ([\d.]+) requests per second/.exec(segment);
    if (match !== null) rates.set(match[1] as string, Number(match[2]));
  }
  return rates;
}

/** Rates from --csv output: a header line, then `"NAME","rps",...` per test. */
function csvRates(output: string): Map<string, number> {
  const rates = new Map<string, number>();
  const lines = output.split(/\r?\n/).filter((line) => line.startsWith('"'));
  assert.match(lines[0] ?? '', /^"test","rps"/);
  for (const line of lines.slice(1)) {
    const [name, rps] = line.split(',').map((cell) => cell.replace(/"/g, ''));
    rates.set((name as string).replace(/ \(\d+ keys\)$/, ''), Number(rps));
  }
  return rates;
}

function assertEveryTestRan(rates: Map<string, number>, output: string): void {
  assert.deepEqual([...rates.keys()].sort(), [...TESTS].sort(), output);
  for (const [name, rate] of rates) {
    assert.ok(Number.isFinite(rate) && rate > 0, `${name} rate ${rate}\n${output}`);
  }
}

test('CONFIG GET save and appendonly answer as redis-benchmark expects', async () => {
  assert.deepEqual(await client.config('GET', 'save'), ['save', '']);
  const appendonly = await client.config('GET', 'appendonly') as string[];
  assert.equal(appendonly[0], 'appendonly');
  assert.match(appendonly[1] ?? '', /^(yes|no)$/);
  const output = await benchmark(['-n', '200', '-t', 'get']);
  assert.match(output, /host configuration "save": \n/);
  assert.match(output, /host configuration "appendonly": (yes|no)\n/);
});

for (const pipelined of [false, true]) {
  const label = pipelined ? 'with -P 16' : 'without pipelining';
  test(`-q ${label}: every test reports a positive rate, no errors`, async () => {
    const errorsBefore = await errorReplies();
    const output = await benchmark(['-q', ...(pipelined ? ['-P', '16'] : [])]);
    assertEveryTestRan(quietRates(output), output);
    assert.equal(await errorReplies(), errorsBefore);
  });

  test(`--csv ${label}: every test reports a positive rate, no errors`, async () => {
    const errorsBefore = await errorReplies();
    const output = await benchmark(['--csv', ...(pipelined ? ['-P', '16'] : [])]);
    assertEveryTestRan(csvRates(output), output);
    assert.equal(await errorReplies(), errorsBefore);
  });
}

test('the benchmark keys hold what was written (no lost INCR)', async () => {
  assert.equal(await client.get('counter:__rand_int__'), String(incrementsSent));
  // SET and MSET write the 3-byte payload (-d default) to key:__rand_int__.
  assert.equal(await client.strlen('key:__rand_int__'), 3);
});
