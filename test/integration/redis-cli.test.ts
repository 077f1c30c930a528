/**
 * redis-cli 7.0 against a real RingKV node: one-shot commands, its output formats, RESP3
 * (-3), INFO, --scan, -x, --pipe mass insertion and the read-eval-print loop fed through
 * standard input (which also sends COMMAND DOCS at startup).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertSameBytes, connectIoredis, parseInfo, runTool, type TestRedis, type ToolResult,
} from '../helpers/clients.js';
import { encodeCommand } from '../helpers/resp-client.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';

const PIPE_COMMANDS = 10_000;

let node: ServerProcess;
let client: TestRedis;

before(async () => {
  node = await startNode();
  client = await connectIoredis(node.port);
});

after(async () => {
  client?.disconnect();
  await node?.stop();
  node?.cleanup();
});

async function cli(args: readonly string[], input?: string | Buffer): Promise<ToolResult> {
  return await runTool('redis-cli', ['-p', String(node.port), ...args],
    input === undefined ? {} : { input });
}

/** Runs redis-cli and requires exit status 0 and nothing on standard error. */
async function cliOk(args: readonly string[], input?: string | Buffer): Promise<string> {
  const result = await cli(args, input);
  assert.equal(result.stderr, '', `redis-cli ${args.join(' ')} wrote to stderr`);
  assert.equal(result.code, 0, `redis-cli ${args.join(' ')} exited ${result.code}`);
  return result.stdout;
}

test('one-shot commands (raw output when stdout is not a terminal)', async () => {
  assert.equal(await cliOk(['SET', 'cli:k', 'v 1']), 'OK\n');
  assert.equal(await cliOk(['GET', 'cli:k']), 'v 1\n');
  assert.equal(await cliOk(['INCR', 'cli:n']), '1\n');
  assert.equal(await cliOk(['GET', 'cli:missing']), '\n');
  assert.equal(await cliOk(['EXISTS', 'cli:k', 'cli:n', 'cli:missing']), '2\n');
  assert.equal(await cliOk(['-n', '4', 'SET', 'cli:db4', 'four']), 'OK\n');
  assert.equal(await cliOk(['-n', '4', 'GET', 'cli:db4']), 'four\n');
  assert.equal(await cliOk(['GET', 'cli:db4']), '\n');
  assert.equal(await cliOk(['PING']), 'PONG\n');
});

test('--no-raw shows types as in a terminal; --raw prints bytes as they are', async () => {
  await client.set('cli:fmt', 'a\nb');
  assert.equal(await cliOk(['--no-raw', 'GET', 'cli:fmt']), '"a\\nb"\n');
  assert.equal(await cliOk(['--raw', 'GET', 'cli:fmt']), 'a\nb\n');
  assert.equal(await cliOk(['--no-raw', 'GET', 'cli:missing']), '(nil)\n');
  assert.equal(await cliOk(['--no-raw', 'INCR', 'cli:fmt-n']), '(integer) 1\n');
  assert.equal(await cliOk(['--no-raw', 'INCR', 'cli:fmt']),
    '(error) ERR value is not an integer or out of range\n');
  assert.equal(await cliOk(['--no-raw', 'SET']),
    "(error) ERR wrong number of arguments for 'set' command\n");
  await client.mset('cli:m1', 'x', 'cli:m2', 'y');
  assert.equal(await cliOk(['--no-raw', 'MGET', 'cli:m1', 'cli:m2', 'cli:missing']),
    '1) "x"\n2) "y"\n3) (nil)\n');
  assert.equal(await cliOk(['--no-raw', 'CONFIG', 'GET', 'databases']),
    '1) "databases"\n2) "16"\n');
});

test('-3: RESP3 handshake, maps and nulls', async () => {
  assert.match(await cliOk(['-3', 'CLIENT', 'INFO']), /\bresp=3\b/);
  assert.equal(await cliOk(['-3', '--no-raw', 'CONFIG', 'GET', 'databases']),
    '1# "databases" => "16"\n');
  assert.equal(await cliOk(['-3', '--no-raw', 'GET', 'cli:missing']), '(nil)\n');
  const hello = await cliOk(['-3', '--no-raw', 'HELLO', '3']);
  assert.match(hello, /^1# "server" => "redis"\n/);
  assert.match(hello, /"proto" => \(integer\) 3\n/);
  const info = await cliOk(['-3', 'INFO', 'SERVER']);
  assert.match(info, /^# Server\r?\n/);
  assert.match(info, /\nredis_version:\d+\.\d+\.\d+\r?\n/);
});

test('INFO and INFO SERVER', async () => {
  const all = await cliOk(['INFO']);
  for (const section of ['# Server', '# Clients', '# Memory', '# Persistence', '# Stats',
    '# Replication', '# CPU', '# Keyspace']) {
    assert.ok(all.includes(`${section}\r\n`), `INFO lacks ${section}`);
  }
  const server = await cliOk(['INFO', 'SERVER']);
  assert.match(server, /^# Server\r\n/);
  const fields = parseInfo(server);
  assert.match(fields.get('redis_version') ?? '', /^\d+\.\d+\.\d+$/);
  assert.equal(fields.get('tcp_port'), String(node.port));
  assert.equal(fields.get('redis_mode'), 'standalone');
});

test('--scan --pattern lists every matching key once', async () => {
  const expected: string[] = [];
  const pipeline = client.pipeline();
  for (let index = 0; index < 500; index++) {
    pipeline.set(`scan:${index}`, 'v');
    if (index % 7 === 0) expected.push(`scan:${index}`);
    pipeline.set(`other:${index}`, 'v');
  }
  await pipeline.exec();
  // Keys whose number is a multiple of 7 get a second, matching name.
  for (const key of expected) await client.rename(key, `${key}:seven`);
  const output = await cliOk(['--scan', '--pattern', 'scan:*:seven']);
  const listed = output.split('\n').filter((line) => line !== '');
  assert.deepEqual(listed.sort(), expected.map((key) => `${key}:seven`).sort());
  const everything = (await cliOk(['--scan', '--pattern', 'scan:*'])).split('\n')
    .filter((line) => line !== '');
  assert.equal(everything.length, 500);
  assert.equal(new Set(everything).size, 500, 'a key was listed twice');
});

test('-x takes the last argument from standard input, byte for byte', async () => {
  const payload = Buffer.concat([Buffer.from('line1\nline2\r\n'), Buffer.from([0, 255, 0]),
    Buffer.from('end')]);
  assert.equal(await cliOk(['-x', 'SET', 'cli:x'], payload), 'OK\n');
  assertSameBytes(await client.getBuffer('cli:x'), payload, 'value set with -x');
});

test(`--pipe mass insertion of ${PIPE_COMMANDS} commands reports no errors`, async () => {
  const commands: Buffer[] = [];
  for (let index = 0; index < PIPE_COMMANDS; index++) {
    commands.push(index % 2 === 0
      ? encodeCommand(['SET', `mass:${index}`, `value-${index}`])
      : encodeCommand(['INCR', 'mass:counter']));
  }
  const output = await cliOk(['--pipe'], Buffer.concat(commands));
  assert.match(output, /All data transferred\. Waiting for the last reply\.\.\./);
  assert.match(output, /Last reply received from server\./);
  assert.match(output, new RegExp(`errors: 0, replies: ${PIPE_COMMANDS}\\b`));
  assert.equal(await client.get('mass:counter'), String(PIPE_COMMANDS / 2));
  assert.equal(await client.get(`mass:${PIPE_COMMANDS - 2}`), `value-${PIPE_COMMANDS - 2}`);
  const keys = await cliOk(['--scan', '--pattern', 'mass:*']);
  assert.equal(keys.split('\n').filter((line) => line !== '').length, PIPE_COMMANDS / 2 + 1);
});

test('read-eval-print loop driven through standard input', async () => {
  assert.equal(await cliOk([], 'PING\n'), 'PONG\n');
  const script = [
    'SET repl:a 1',
    'INCR repl:a',
    'GET repl:a',
    'SET "repl:with space" "two words"',
    'GET "repl:with space"',
    'GET repl:none',
    'ECHO "quoted \\"inner\\" text"',
    'DEL repl:a "repl:with space"',
    '',
  ].join('\n');
  assert.equal(await cliOk([], script),
    'OK\n2\n2\nOK\ntwo words\n\nquoted "inner" text\n2\n');
  assert.equal(await cliOk(['--no-raw'], 'SET repl:b 5\nINCRBY repl:b 5\nGET repl:b\n'),
    'OK\n(integer) 10\n"10"\n');
});

test('startup COMMAND DOCS succeeds, so redis-cli prints no errors', async () => {
  await client.config('RESETSTAT');
  assert.equal(await cliOk([], 'PING\n'), 'PONG\n');
  const stats = parseInfo(await client.info('commandstats'));
  const docs = stats.get('cmdstat_command|docs');
  assert.ok(docs !== undefined, 'redis-cli did not send COMMAND DOCS');
  assert.match(docs, /\bcalls=1\b/);
  assert.match(docs, /\brejected_calls=0,failed_calls=0$/);
  // COMMAND DOCS of one command, as redis-cli asks when it needs a hint for it.
  const reply = await cliOk(['COMMAND', 'DOCS', 'set']);
  assert.match(reply, /^set\n/);
  assert.match(reply, /\nsummary\n/);
});
