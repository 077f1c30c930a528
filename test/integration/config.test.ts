/**
 * Configuration as an operator uses it: `ringkv-server ./ringkv.conf --flag value` with a
 * redis.conf-style file (comments, quotes, include), RINGKV_* environment variables between
 * the file and the flags, start-up failures that name the file, line and reason, and
 * CONFIG GET / SET / REWRITE at run time.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectIoredis, type TestRedis } from '../helpers/clients.js';
import { freePort } from '../helpers/ports.js';
import { temporaryDirectory, type ServerProcess } from '../helpers/processes.js';
import { RespClient } from '../helpers/resp-client.js';
import {
  runServerCommandToExit, startServerCommand,
} from '../helpers/server-command.js';

const PASSWORD = 'pa ss"word';

let workDir: string;
const servers: ServerProcess[] = [];

before(() => {
  workDir = temporaryDirectory('ringkv-config');
});

after(async () => {
  for (const server of servers) await server.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** Writes a file under the test's directory; returns its path. */
function writeConfig(name: string, lines: readonly string[]): string {
  const path = join(workDir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function start(argv: readonly string[], port: number, password?: string,
    env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const server = await startServerCommand(argv, {
    port, cwd: workDir, env, ...(password === undefined ? {} : { password }),
  });
  servers.push(server);
  return server;
}

async function configValue(client: TestRedis, name: string): Promise<string | undefined> {
  const pair = await client.config('GET', name) as string[];
  return pair[1];
}

test('a config file with comments, quotes and include; flags > environment > file',
    async () => {
  const port = await freePort();
  const filePort = await freePort();
  writeConfig('extra.conf', [
    '# included from ringkv.conf',
    'slowlog-max-len 77',
    'hz 20',
  ]);
  writeConfig('ringkv.conf', [
    '# RingKV test configuration',
    '',
    `port ${filePort}`,
    '   # an indented comment',
    `dir "${join(workDir, 'data')}"`,
    `requirepass "pa ss\\"word"`,
    "bind '127.0.0.1'",
    'maxclients 100',
    'timeout 7',
    'save 3600 1',
    'save 300 100',
    'include extra.conf',
    'slowlog-log-slower-than 5000',
  ]);
  // A relative config path and include, resolved from the working directory.
  const server = await start(['./ringkv.conf', '--port', String(port), '--maxclients', '300'],
    port, PASSWORD, { RINGKV_MAXCLIENTS: '200', RINGKV_HZ: '30' });
  const client = await connectIoredis(port, { password: PASSWORD });
  try {
    assert.equal(await configValue(client, 'port'), String(port), 'the flag wins over the file');
    assert.equal(await configValue(client, 'maxclients'), '300', 'flag > environment > file');
    assert.equal(await configValue(client, 'hz'), '30', 'environment > included file');
    assert.equal(await configValue(client, 'timeout'), '7');
    assert.equal(await configValue(client, 'slowlog-max-len'), '77');
    assert.equal(await configValue(client, 'slowlog-log-slower-than'), '5000');
    assert.equal(await configValue(client, 'save'), '3600 1 300 100');
    assert.equal(await configValue(client, 'requirepass'), PASSWORD);
    assert.equal(await configValue(client, 'dir'), join(workDir, 'data'));
    const info = await client.info('server');
    assert.match(info, new RegExp(`\\r\\nconfig_file:${join(workDir, 'ringkv.conf')}\\r\\n`));
    // Nothing listens on the port the file named: the flag replaced it.
    await assert.rejects(RespClient.connect(filePort));
  } finally {
    client.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('an unknown directive or a bad value in a file: exit 1 naming file, line, reason',
    async () => {
  const unknown = writeConfig('unknown.conf', ['# ok so far', 'port 7000', 'no-such-thing 5']);
  let result = await runServerCommandToExit([unknown], { cwd: workDir });
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, new RegExp(`${unknown}:3: unknown directive 'no-such-thing'`));

  const badValue = writeConfig('bad-value.conf', ['port 7000', '', 'maxclients lots']);
  result = await runServerCommandToExit([badValue], { cwd: workDir });
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, new RegExp(`${badValue}:3: invalid value 'lots' for ` +
    "'maxclients': argument couldn't be parsed into an integer"));

  const nested = writeConfig('nested-bad.conf', ['hz 10', 'appendfsync sometimes']);
  const outer = writeConfig('outer.conf', ['port 7000', `include ${nested}`]);
  result = await runServerCommandToExit([outer], { cwd: workDir });
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, new RegExp(`${nested}:2: invalid value 'sometimes' for ` +
    "'appendfsync'"));

  const quotes = writeConfig('quotes.conf', ['requirepass "unterminated']);
  result = await runServerCommandToExit([quotes], { cwd: workDir });
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, new RegExp(`${quotes}:1: unbalanced quotes`));

  result = await runServerCommandToExit([join(workDir, 'missing.conf')], { cwd: workDir });
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /missing\.conf/);
});

test('an unknown flag, a flag without a value or a bad environment value: exit 1',
    async () => {
  let result = await runServerCommandToExit(['--port', '7000', '--no-such-flag', 'x']);
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /--no-such-flag: unknown directive 'no-such-flag'/);

  result = await runServerCommandToExit(['--port']);
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /--port: 'port' takes exactly one value/);

  result = await runServerCommandToExit(['--maxclients', '0']);
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /'maxclients': argument must be between 1 and/);

  result = await runServerCommandToExit(['--port', '7000'], { env: { RINGKV_TIMEOUT: 'soon' } });
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /environment variable RINGKV_TIMEOUT: invalid value 'soon'/);
});

test('CONFIG SET / GET round trip, errors, and settings taking effect', async () => {
  const port = await freePort();
  const dir = join(workDir, 'runtime');
  const server = await start(['--port', String(port), '--dir', dir], port);
  const client = await connectIoredis(port);
  try {
    assert.equal(await client.config('SET', 'maxclients', '50'), 'OK');
    assert.equal(await configValue(client, 'maxclients'), '50');
    assert.equal(await client.config('SET', 'hz', '15', 'timeout', '3'), 'OK');
    assert.deepEqual(await client.config('GET', 'hz'), ['hz', '15']);
    assert.deepEqual(await client.config('GET', 'timeout'), ['timeout', '3']);
    const matched = await client.config('GET', 'slowlog-*') as string[];
    assert.deepEqual(matched.filter((_, index) => index % 2 === 0).sort(),
      ['slowlog-log-slower-than', 'slowlog-max-len']);
    assert.equal(await client.config('SET', 'proto-max-bulk-len', '2mb'), 'OK');
    assert.equal(await configValue(client, 'proto-max-bulk-len'), String(2 * 1024 * 1024));
    await assert.rejects(client.config('SET', 'maxclients', 'many'), new RegExp(
      "ERR CONFIG SET failed \\(possibly related to argument 'maxclients'\\) - " +
      "argument couldn't be parsed into an integer"));
    await assert.rejects(client.config('SET', 'no-such-setting', '1'),
      /ERR Unknown option or number of arguments for CONFIG SET - 'no-such-setting'/);
    await assert.rejects(client.config('SET', 'dir', '/tmp'), /can't set protected config/);
    await assert.rejects(client.config('SET', 'port', '1'), /can't set immutable config/);
    // All or nothing: a bad pair leaves the good one unapplied.
    await assert.rejects(client.config('SET', 'hz', '40', 'timeout', 'x'));
    assert.equal(await configValue(client, 'hz'), '15');
    await assert.rejects(client.config('REWRITE'),
      /ERR The server is running without a config file/);

    // requirepass applies to new connections; this one stays authenticated.
    assert.equal(await client.config('SET', 'requirepass', PASSWORD), 'OK');
    const raw = await RespClient.connect(port);
    assert.equal(await raw.call('GET', 'x'), '-NOAUTH Authentication required.\r\n');
    raw.close();
    assert.equal(await client.ping(), 'PONG');
    assert.equal(await client.config('SET', 'requirepass', ''), 'OK');
  } finally {
    client.disconnect();
    assert.equal(await server.stop(), 0);
  }
});

test('CONFIG REWRITE writes changes back, keeping comments and include', async () => {
  const port = await freePort();
  const path = writeConfig('rewrite.conf', [
    '# Operator notes: keep this comment',
    `port ${port}`,
    `dir ${join(workDir, 'rewrite-data')}`,
    '',
    '# Clients',
    'maxclients 100',
    '# Included settings',
    `include ${join(workDir, 'extra.conf')}`,
    'appendfsync everysec',
  ]);
  const server = await start([path], port);
  let client = await connectIoredis(port);
  try {
    assert.equal(await client.config('SET', 'maxclients', '222', 'timeout', '9',
      'appendfsync', 'always'), 'OK');
    assert.equal(await client.config('REWRITE'), 'OK');
    const lines = readFileSync(path, 'utf8').split('\n');
    for (const kept of ['# Operator notes: keep this comment', '# Clients',
      '# Included settings', `include ${join(workDir, 'extra.conf')}`, `port ${port}`]) {
      assert.ok(lines.includes(kept), `rewrite dropped "${kept}":\n${lines.join('\n')}`);
    }
    // Changed settings stay where they were; new ones are added.
    assert.equal(lines.indexOf('maxclients 222'), 5, lines.join('\n'));
    assert.ok(lines.includes('appendfsync always'), lines.join('\n'));
    assert.ok(lines.includes('timeout 9'), lines.join('\n'));
    assert.ok(!lines.includes('maxclients 100'));
    client.disconnect();
    assert.equal(await server.stop(), 0);

    const restarted = await start([path], port);
    client = await connectIoredis(port);
    assert.equal(await configValue(client, 'maxclients'), '222');
    assert.equal(await configValue(client, 'timeout'), '9');
    assert.equal(await configValue(client, 'appendfsync'), 'always');
    assert.equal(await configValue(client, 'slowlog-max-len'), '77');
    client.disconnect();
    assert.equal(await restarted.stop(), 0);
  } finally {
    client.disconnect();
  }
});
