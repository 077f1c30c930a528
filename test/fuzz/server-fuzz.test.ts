/**
 * Fuzzes a real RingKV node over TCP (COMPAT.md B7, STYLE.md "never crash on client input"):
 * random bytes, malformed and oversized frames, and random but well-formed commands, sent in
 * random chunks. After every case the node must still run, a separate well-behaved client
 * must still get PONG and read back a sentinel key, and the fuzzed connection must end up
 * either closed by the server or answering a final PING.
 *
 * Seeded: the seed is printed; rerun a failure with
 *   FUZZ_SEED=<seed> node scripts/run-tests.js server-fuzz
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { RespClient, encodeCommand, splitReplies } from '../helpers/resp-client.js';

const SEED = process.env.FUZZ_SEED === undefined
  ? randomInt(2 ** 31) : Number(process.env.FUZZ_SEED);
const BULK_BYTES_MAX = 1024 * 1024;
const PASSWORD = 'fuzz-pass-7';
const SENTINEL_KEY = '__fuzz_sentinel__';
const SENTINEL_VALUE = 'untouched';
/** Enough "\r\n" to complete any pending bulk (at most proto-max-bulk-len + 2 bytes). */
const FILLER = Buffer.alloc(BULK_BYTES_MAX + 64, '\r\n');
const PROBE = Buffer.from('\r\nPING\r\n');

/** One raw connection under test: collects everything the server sends. */
class FuzzConnection {
  received = Buffer.alloc(0);
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    const onEnd = (): void => {
      this.closed = true;
      this.wake();
    };
    socket.on('close', onEnd);
    socket.on('error', onEnd);
  }

  static async open(port: number): Promise<FuzzConnection> {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new FuzzConnection(socket);
  }

  /** Writes each piece separately (waiting for each write) so chunk boundaries vary. */
  async send(pieces: readonly Buffer[]): Promise<void> {
    for (const piece of pieces) {
      if (this.closed) return;
      await new Promise<void>((resolve) => this.socket.write(piece, () => resolve()));
    }
  }

  /** Resolves when `done()` holds (re-checked on every event) or after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** True once the last complete reply received is `reply` (nothing pending after it). */
  endsWith(reply: string): boolean {
    const { replies, rest } = splitReplies(this.received);
    return rest.length === 0 && replies.at(-1)?.toString('latin1') === reply;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

interface FuzzCase {
  kind: string;
  bytes: Buffer;
  /** Fractions of the length where the bytes are split into separate writes. */
  cuts: number[];
}

const NAMES = ['GET', 'SET', 'DEL', 'INCR', 'INCRBY', 'INCRBYFLOAT', 'DECRBY', 'APPEND', 'STRLEN',
  'GETRANGE', 'SETRANGE', 'MGET', 'MSET', 'MSETNX', 'GETEX', 'GETDEL', 'GETSET', 'SETEX',
  'PSETEX', 'SETNX', 'EXPIRE', 'PEXPIRE', 'EXPIREAT', 'TTL', 'PTTL', 'PERSIST', 'EXPIRETIME',
  'EXISTS', 'TOUCH', 'UNLINK', 'TYPE', 'RENAME', 'RENAMENX', 'COPY', 'KEYS', 'SCAN', 'DBSIZE',
  'RANDOMKEY', 'ECHO', 'PING', 'HELLO', 'SELECT', 'AUTH', 'CLIENT', 'CONFIG', 'COMMAND', 'INFO',
  'SLOWLOG', 'TIME', 'LASTSAVE', 'RESET', 'QUIT', 'get', 'sEt', 'NOSUCH', '', 'x', 'PING\0',
  'CLUSTER', 'READONLY', 'ASKING', 'MULTI', 'EXEC', 'EVAL', 'SUBSCRIBE', 'POST', 'Host:'];
const ARGS = ['a', 'b', 'k', '{a}b', '', '0', '1', '-1', '2', '3', '10', '100',
  '9223372036854775807', '-9223372036854775808', '9223372036854775808', '99999999999999999999',
  '1.5', '-0', 'inf', '-inf', 'nan', '1e308', '0x10', 'EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX',
  'GET', 'KEEPTTL', 'PERSIST', 'MATCH', 'COUNT', 'TYPE', 'string', '*', '?', '[', '[a-', '\\',
  '**a*a*a*a*b', 'HELP', 'ID', 'INFO', 'LIST', 'SETNAME', 'GETNAME', 'SETINFO', 'LIB-NAME',
  'NO-EVICT', 'NO-TOUCH', 'ON', 'OFF', 'DOCS', 'GETKEYS', 'LEN', 'RESETSTAT', 'everything',
  'default', 'AUTH', 'SETNAME', '\0', '\r\n', 'é', 'x'.repeat(300), ' '];
/** Commands that would break the harness rather than the server: made harmless here. */
const HARMLESS: Record<string, ReadonlySet<string>> = {
  CLIENT: new Set(['KILL', 'REPLY', 'PAUSE']),
  CONFIG: new Set(['SET', 'REWRITE']),
};

function harmless(args: string[]): string[] {
  const blocked = HARMLESS[(args[0] ?? '').toUpperCase()];
  if (blocked !== undefined && blocked.has((args[1] ?? '').toUpperCase())) args[1] = 'HELP';
  return args;
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });
const fuzzCase = (kind: string, bytes: fc.Arbitrary<Buffer>): fc.Arbitrary<FuzzCase> =>
  fc.tuple(bytes, cuts).map(([value, fractions]) => ({ kind, bytes: value, cuts: fractions }));
const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');

const weirdCommand = fc.tuple(fc.constantFrom(...NAMES),
  fc.array(fc.constantFrom(...ARGS), { maxLength: 8 }))
  .map(([name, args]) => harmless([name, ...args]));

const CASES: fc.Arbitrary<FuzzCase> = fc.oneof(
  fuzzCase('random bytes', fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b))),
  fuzzCase('random RESP-ish text', fc.array(fc.constantFrom('*', '$', '\r\n', '\r', '\n', '-',
    '0', '1', '9', '2147483648', ' ', '"', "'", 'PING', '*1\r\n', '$4\r\n', '*-1\r\n', ':1\r\n',
    '+OK\r\n', '%1\r\n', '~', '\0'), { maxLength: 40 }).map((parts) => ascii(parts.join('')))),
  fuzzCase('huge multibulk count', fc.oneof(fc.bigInt({ min: 11n, max: 2n ** 70n }),
    fc.constantFrom(2147483647n, 2147483648n, 3000000000n, 9223372036854775807n))
    .map((count) => ascii(`*${count}\r\n$4\r\nPING\r\n`))),
  fuzzCase('negative lengths', fc.tuple(fc.bigInt({ min: 1n, max: 2n ** 65n }), fc.boolean())
    .map(([length, bulk]) => ascii(bulk ? `*1\r\n$-${length}\r\nPING\r\n` : `*-${length}\r\n`))),
  fuzzCase('long inline line', fc.tuple(fc.integer({ min: 60 * 1024, max: 80 * 1024 }),
    fc.boolean()).map(([length, newline]) =>
    Buffer.concat([Buffer.alloc(length, 'A'), ascii(newline ? '\r\n' : '')]))),
  fuzzCase('bulk over proto-max-bulk-len', fc.bigInt({ min: BigInt(BULK_BYTES_MAX) + 1n,
    max: 2n ** 64n }).map((length) => ascii(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${length}\r\n`))),
  fuzzCase('bulk over the unauthenticated limit', fc.integer({ min: 16380, max: 17000 })
    .map((length) => Buffer.concat([ascii(`*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$${length}\r\n`),
      Buffer.alloc(length, 'v'), ascii('\r\n')]))),
  fuzzCase('nested *', fc.integer({ min: 1, max: 5 }).map((depth) =>
    ascii(`${'*1\r\n'.repeat(depth)}$4\r\nPING\r\n`))),
  fuzzCase('garbage headers', fc.constantFrom('*1x\r\n', '*\r\n', '* 1\r\n', '*+1\r\n',
    '*01\r\n', '*1\r\n$\r\n', '*1\r\n$+4\r\nPING\r\n', '*1\r\n$04\r\nPING\r\n',
    '*1\r\n$4x\r\nPING\r\n', '*1\r\nx\r\n', '*1\r\n\xe9\r\n', '"unbalanced\r\n', "'a'b\r\n",
    'POST / HTTP/1.1\r\nHost: x\r\n\r\n', `*${'9'.repeat(70 * 1024)}`).map(ascii)),
  fuzzCase('truncated valid frames', fc.tuple(weirdCommand, fc.double({ min: 0, max: 1,
    noNaN: true })).map(([args, fraction]) => {
    const bytes = encodeCommand(args);
    return bytes.subarray(0, Math.floor(bytes.length * fraction));
  })),
  fuzzCase('weird commands', fc.array(fc.tuple(weirdCommand, fc.boolean()), { minLength: 1,
    maxLength: 6 }).map((commands) => Buffer.concat(commands.map(([args, inline]) =>
    (inline ? ascii(`${args.map((arg) => arg.replace(/[\r\n"']/g, '_') || 'x').join(' ')}\r\n`)
      : encodeCommand(args)))))),
  fuzzCase('pending bulk', fc.tuple(fc.integer({ min: 0, max: BULK_BYTES_MAX }), fc.nat())
    .map(([length, sent]) => Buffer.concat([ascii(`*3\r\n$3\r\nSET\r\n$1\r\np\r\n$${length}\r\n`),
      Buffer.alloc(Math.min(sent % 70_000, length), 'd')]))),
  fuzzCase('big valid value', fc.integer({ min: 1000, max: 300_000 }).map((length) =>
    encodeCommand(['SET', 'big', Buffer.alloc(length, 'z')]))),
);

function pieces(fuzz: FuzzCase): Buffer[] {
  const points = fuzz.cuts.map((fraction) => Math.floor(fraction * fuzz.bytes.length))
    .sort((a, b) => a - b);
  const result: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) result.push(fuzz.bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  if (start < fuzz.bytes.length) result.push(fuzz.bytes.subarray(start));
  return result;
}

interface Target {
  node: ServerProcess;
  healthy: RespClient;
  /** What the probe PING gets on a connection that did not authenticate. */
  probeReply: string;
}

/** Sends one case, then checks the connection, the node and the well-behaved client. */
async function runCase(target: Target, fuzz: FuzzCase): Promise<string> {
  const connection = await FuzzConnection.open(target.node.port);
  try {
    await connection.send(pieces(fuzz));
    const answered = (): boolean => connection.closed || connection.endsWith(target.probeReply);
    await connection.send([PROBE]);
    let outcome = 'answered';
    if (!(await connection.until(answered, 250))) {
      // Probably inside a pending bulk: complete it, then ask again.
      outcome = 'answered after filler';
      await connection.send([FILLER, PROBE]);
      if (!(await connection.until(answered, 10_000))) {
        const shown = connection.received.subarray(-300).toString('latin1');
        assert.fail(`${fuzz.kind}: connection neither closed nor answered PING; last bytes ` +
          `received: ${JSON.stringify(shown)}`);
      }
    }
    if (connection.closed) outcome = 'closed';
    assert.equal(target.node.process.exitCode, null, 'node still running');
    assert.equal(await target.healthy.call('PING'), '+PONG\r\n');
    assert.equal(await target.healthy.call('GET', SENTINEL_KEY),
      `$${SENTINEL_VALUE.length}\r\n${SENTINEL_VALUE}\r\n`);
    return outcome;
  } finally {
    connection.destroy();
  }
}

async function fuzz(target: Target, numRuns: number, seed: number,
    log: (line: string) => void): Promise<void> {
  const outcomes = new Map<string, number>();
  log(`server fuzz seed ${seed} (replay: FUZZ_SEED=${seed})`);
  try {
    await fc.assert(fc.asyncProperty(CASES, async (fuzzCase) => {
      const outcome = await runCase(target, fuzzCase);
      const key = `${fuzzCase.kind}: ${outcome}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }), { seed, numRuns, endOnFailure: true });
  } catch (error) {
    throw new Error(`server fuzz failed with seed ${seed} ` +
      `(replay: FUZZ_SEED=${seed} node scripts/run-tests.js server-fuzz)\n` +
      `${(error as Error).message}\nnode output:\n${target.node.output().slice(-2000)}`);
  }
  for (const [key, count] of [...outcomes].sort()) log(`  ${count} x ${key}`);
}

async function startTarget(password: string | null): Promise<Target> {
  const node = await startNode({ args: ['--proto-max-bulk-len', String(BULK_BYTES_MAX),
    '--maxclients', '1000'] });
  const healthy = await RespClient.connect(node.port);
  assert.equal(await healthy.call('SET', SENTINEL_KEY, SENTINEL_VALUE), '+OK\r\n');
  // Set at run time: startNode waits for an unauthenticated PING to answer PONG. Like
  // Redis, connections opened before keep their authentication.
  if (password !== null) {
    assert.equal(await healthy.call('CONFIG', 'SET', 'requirepass', password), '+OK\r\n');
  }
  return { node, healthy,
    probeReply: password === null ? '+PONG\r\n' : '-NOAUTH Authentication required.\r\n' };
}

async function stopTarget(target: Target | undefined): Promise<void> {
  target?.healthy.close();
  await target?.node.stop();
  target?.node.cleanup();
}

describe('server fuzz: open node', () => {
  let target: Target | undefined;
  before(async () => {
    target = await startTarget(null);
  });
  after(async () => stopTarget(target));

  test('random and malformed input never takes the node down', async (t) => {
    await fuzz(target as Target, 400, SEED, (line) => t.diagnostic(line));
  });

  test('a non-ASCII byte after the multibulk header is echoed as that raw byte', async () => {
    const connection = await FuzzConnection.open((target as Target).node.port);
    try {
      await connection.send([Buffer.from('*1\r\n\xe9\r\n', 'latin1')]);
      await connection.until(() => connection.closed, 5000);
      assert.equal(connection.received.toString('hex'),
        Buffer.from("-ERR Protocol error: expected '$', got '\xe9'\r\n", 'latin1')
          .toString('hex'));
    } finally {
      connection.destroy();
    }
  });
});

describe('server fuzz: password-protected node (unauthenticated limits)', () => {
  let target: Target | undefined;
  before(async () => {
    target = await startTarget(PASSWORD);
  });
  after(async () => stopTarget(target));

  test('random and malformed input from unauthenticated clients', async (t) => {
    await fuzz(target as Target, 250, SEED + 1, (line) => t.diagnostic(line));
  });
});
