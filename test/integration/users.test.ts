/**
 * Users declared in a config file (`user` and `user-consistency` lines) on a real node:
 * the consistency each connection gets at connect, after AUTH / HELLO AUTH and after RESET;
 * ioredis and node-redis logging in with username and password; NOPERM through both
 * clients; CLIENT LIST user= and CLIENT KILL USER; the INFO acl counters; ACL SETUSER kept
 * across a restart by CONFIG REWRITE; start-up failures naming the bad line.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { connectIoredis, disconnectAll, infoField, parseInfo, type TestRedis }
  from '../helpers/clients.js';
import { freePort } from '../helpers/ports.js';
import { temporaryDirectory, type ServerProcess } from '../helpers/processes.js';
import { RespClient } from '../helpers/resp-client.js';
import { runServerCommandToExit, startServerCommand } from '../helpers/server-command.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG_LINES = [
  '# users of the integration test',
  'user alice on >alicepw ~* &* +@all',
  'user bob on >bobpw ~bob:* -@all +@read +@write +@connection',
  'user carol off >carolpw ~* +@all',
  'user-consistency alice ALL',
  'user-consistency bob READ one WRITE quorum',
  'user-consistency default QUORUM',
];

let workDir: string;
let configPath: string;
let dataDir: string;
let node: ServerProcess | undefined;

async function startWithConfig(): Promise<ServerProcess> {
  const port = await freePort();
  return await startServerCommand([configPath, '--port', String(port), '--dir', dataDir],
    { port, cwd: workDir });
}

before(async () => {
  workDir = temporaryDirectory('ringkv-users');
  configPath = join(workDir, 'ringkv.conf');
  dataDir = join(workDir, 'data');
  writeFileSync(configPath, `${CONFIG_LINES.join('\n')}\n`);
  node = await startWithConfig();
});

after(async () => {
  await node?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function port(): number {
  assert.ok(node !== undefined, 'node not started');
  return node.port;
}

/** CONSISTENCY's read and write levels from its RESP2 reply (a flat array of pairs). */
async function levels(client: RespClient): Promise<string> {
  const reply = await client.call('CONSISTENCY');
  const lines = reply.split('\r\n');
  const field = (name: string): string => lines[lines.indexOf(name) + 2] as string;
  return `${field('read')}/${field('write')}`;
}

test('CONSISTENCY follows the user: at connect, AUTH, HELLO AUTH, RESET', async () => {
  const client = await RespClient.connect(port());
  try {
    assert.equal(await levels(client), 'QUORUM/QUORUM', 'the default user at connect');
    assert.equal(await client.call('AUTH', 'alice', 'alicepw'), '+OK\r\n');
    assert.equal(await levels(client), 'ALL/ALL');
    assert.equal(await client.call('CONSISTENCY', 'ONE'), '+OK\r\n');
    assert.equal(await levels(client), 'ONE/ONE', 'CONSISTENCY still overrides');
    assert.equal(await client.call('AUTH', 'bob', 'bobpw'), '+OK\r\n');
    assert.equal(await levels(client), 'ONE/QUORUM');
    assert.match(await client.call('AUTH', 'carol', 'carolpw'), /^-WRONGPASS/);
    assert.equal(await levels(client), 'ONE/QUORUM', 'a failed AUTH changes nothing');
    assert.match(await client.call('HELLO', '3', 'AUTH', 'alice', 'alicepw'), /^%7/);
    assert.match(await client.call('HELLO', '2'), /^\*14\r\n/);
    assert.equal(await levels(client), 'ALL/ALL');
    assert.equal(await client.call('RESET'), '+RESET\r\n');
    assert.equal(await levels(client), 'QUORUM/QUORUM', 'RESET: the default user again');
    assert.equal(await client.call('CONSISTENCY', 'ALL'), '+OK\r\n');
    assert.equal(await client.call('RESET'), '+RESET\r\n');
    assert.equal(await levels(client), 'QUORUM/QUORUM');
  } finally {
    client.close();
  }
});

/** ioredis reports a refused login as an 'error' event, then fails connect(). */
async function assertIoredisRefused(protocol: 2 | 3, username: string,
    password: string): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port: port(), protocol, username, password,
    lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  const errors: Error[] = [];
  client.on('error', (error: Error) => errors.push(error));
  try {
    await assert.rejects(client.connect());
    assert.ok(errors.some((error) => /^WRONGPASS/.test(error.message)), String(errors));
  } finally {
    client.disconnect();
  }
}

describe('clients logging in as users', () => {
  const clients: Array<TestRedis | undefined> = [];
  after(() => disconnectAll(clients));

  for (const protocol of [2, 3] as const) {
    test(`ioredis with username and password (protocol ${protocol})`, async () => {
      const alice = await connectIoredis(port(), { protocol, username: 'alice',
        password: 'alicepw' });
      clients.push(alice);
      assert.equal(await alice.call('ACL', 'WHOAMI'), 'alice');
      assert.equal(await alice.set(`io${protocol}`, 'v'), 'OK');
      assert.equal(await alice.get(`io${protocol}`), 'v');
      // bob may not run INFO, which ioredis's ready check tolerates when refused by NOPERM.
      const bob = await connectIoredis(port(), { protocol, username: 'bob', password: 'bobpw' });
      clients.push(bob);
      assert.equal(await bob.set(`bob:io${protocol}`, 'x'), 'OK');
      await assert.rejects(bob.set(`io${protocol}`, 'x'),
        /^ReplyError: NOPERM this user has no permissions to access one of the keys used as/);
      await assert.rejects(bob.call('ACL', 'WHOAMI'),
        /NOPERM this user has no permissions to run the 'acl\|whoami' command/);
      await assertIoredisRefused(protocol, 'bob', 'wrong');
    });
  }

  for (const protocol of [2, 3] as const) {
    test(`node-redis with username and password (RESP${protocol})`, async () => {
      const options = (username: string, password: string) => ({
        socket: { host: '127.0.0.1', port: port(), reconnectStrategy: false as const,
          connectTimeout: 5000 },
        RESP: protocol, username, password,
      });
      const bob = createClient(options('bob', 'bobpw'));
      bob.on('error', () => undefined);
      await bob.connect();
      try {
        assert.equal(await bob.set(`bob:nr${protocol}`, 'v'), 'OK');
        assert.equal(await bob.get(`bob:nr${protocol}`), 'v');
        await assert.rejects(bob.get('elsewhere'), /NOPERM/);
        const reply = await bob.sendCommand(['CONSISTENCY']);
        assert.ok(JSON.stringify(reply).includes('ONE'), JSON.stringify(reply));
      } finally {
        bob.destroy();
      }
      const wrong = createClient(options('alice', 'nope'));
      wrong.on('error', () => undefined);
      await assert.rejects(wrong.connect(), /WRONGPASS/);
      wrong.destroy();
    });
  }
});

test('CLIENT LIST shows the user; CLIENT KILL USER closes its connections', async () => {
  const admin = await RespClient.connect(port());
  const alice = await RespClient.connect(port());
  try {
    assert.equal(await alice.call('AUTH', 'alice', 'alicepw'), '+OK\r\n');
    const id = (await alice.call('CLIENT', 'ID')).slice(1, -2);
    const list = await admin.call('CLIENT', 'LIST');
    const line = list.split('\n').find((entry) => entry.includes(`id=${id} `));
    assert.ok(line?.includes(' user=alice '), line);
    assert.match(await admin.call('CLIENT', 'KILL', 'USER', 'nosuch'),
      /^-ERR No such user 'nosuch'/);
    assert.equal(await admin.call('CLIENT', 'KILL', 'USER', 'alice'), ':1\r\n');
    await alice.closedByServer();
  } finally {
    admin.close();
    alice.close();
  }
});

test('INFO counts refused AUTHs, commands and keys; CONFIG RESETSTAT zeroes them', async () => {
  const admin = await RespClient.connect(port());
  const bob = await RespClient.connect(port());
  const counters = async (): Promise<string[]> => {
    const info = parseInfo((await admin.call('INFO', 'stats')).split('\r\n').slice(1).join('\n'));
    return ['auth', 'cmd', 'key', 'channel'].map((kind) =>
      infoField(info, `acl_access_denied_${kind}`));
  };
  try {
    assert.equal(await admin.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
    assert.deepEqual(await counters(), ['0', '0', '0', '0']);
    assert.match(await bob.call('AUTH', 'bob', 'wrong'), /^-WRONGPASS/);
    assert.match(await bob.call('HELLO', '3', 'AUTH', 'nosuch', 'x'), /^-WRONGPASS/);
    assert.equal(await bob.call('AUTH', 'bob', 'bobpw'), '+OK\r\n');
    assert.match(await bob.call('CONFIG', 'GET', 'port'), /^-NOPERM/);
    assert.match(await bob.call('GET', 'other'), /^-NOPERM/);
    assert.match(await bob.call('MGET', 'bob:1', 'other'), /^-NOPERM/);
    assert.deepEqual(await counters(), ['2', '1', '2', '0']);
    const errors = parseInfo((await admin.call('INFO', 'errorstats')).split('\r\n').slice(1)
      .join('\n'));
    assert.equal(infoField(errors, 'errorstat_NOPERM'), 'count=3');
    assert.equal(await admin.call('CONFIG', 'RESETSTAT'), '+OK\r\n');
    assert.deepEqual(await counters(), ['0', '0', '0', '0']);
  } finally {
    admin.close();
    bob.close();
  }
});

test('ACL SETUSER / DELUSER survive a restart through CONFIG REWRITE', async () => {
  const admin = await RespClient.connect(port());
  try {
    assert.equal(await admin.call('ACL', 'SETUSER', 'dave', 'on', '>davepw', '%R~d:*',
      '+get'), '+OK\r\n');
    assert.equal(await admin.call('ACL', 'DELUSER', 'carol'), ':1\r\n');
    assert.equal(await admin.call('CONFIG', 'REWRITE'), '+OK\r\n');
  } finally {
    admin.close();
  }
  const text = readFileSync(configPath, 'utf8');
  assert.ok(text.startsWith('# users of the integration test\nuser alice on #'), text);
  assert.match(text, /\nuser dave on #[0-9a-f]{64} %R~d:\* resetchannels -@all \+get\n/);
  assert.ok(!text.includes('carol'), text);
  assert.ok(text.includes('user-consistency alice READ ALL WRITE ALL'), text);
  await node?.stop();
  node = await startWithConfig();
  const client = await RespClient.connect(port());
  try {
    assert.equal(await client.call('AUTH', 'dave', 'davepw'), '+OK\r\n');
    assert.match(await client.call('SET', 'd:1', 'x'), /^-NOPERM .* run the 'set' command/);
    assert.equal(await client.call('GET', 'd:1'), '$-1\r\n');
    assert.match(await client.call('AUTH', 'carol', 'carolpw'), /^-WRONGPASS/);
    assert.equal(await client.call('AUTH', 'alice', 'alicepw'), '+OK\r\n');
    assert.equal(await levels(client), 'ALL/ALL', 'user-consistency kept too');
  } finally {
    client.close();
  }
});

test('a bad user or user-consistency line stops the node, naming file and line',
    async () => {
  const cases: ReadonlyArray<readonly [string[], string]> = [
    [['port 7000', 'user bob on nosuchrule'],
      ":2: Error in user declaration 'bob': Syntax error (rule 'nosuchrule')"],
    [['user bob on +nosuch'], ":1: Error in user declaration 'bob': Unknown command or " +
      "category name in ACL (rule '+nosuch')"],
    [['user bob on', 'user bob off'], ":2: Error in user declaration 'bob': Duplicate user"],
    [['user bob on', 'user-consistency bob 2'],
      ':2: consistency level 2 exceeds the replication factor 1'],
    [['user-consistency nobody ALL'], ":1: user-consistency names the user 'nobody'"],
  ];
  for (const [index, [lines, message]] of cases.entries()) {
    const path = join(workDir, `bad-${index}.conf`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    const result = await runServerCommandToExit([path, '--port', '0', '--dir',
      join(workDir, `bad-${index}`)], { cwd: workDir });
    assert.equal(result.code, 1, result.output);
    assert.ok(result.output.includes(`configuration error: ${path}${message}`), result.output);
  }
});

test('SLOWLOG shows ACL SETUSER arguments as (redacted), as Redis does', async () => {
  const admin = await RespClient.connect(port());
  try {
    assert.equal(await admin.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0'), '+OK\r\n');
    assert.equal(await admin.call('SLOWLOG', 'RESET'), '+OK\r\n');
    assert.equal(await admin.call('ACL', 'SETUSER', 'sl', 'on', '>topsecret'), '+OK\r\n');
    assert.equal(await admin.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000'),
      '+OK\r\n');
    const entries = await admin.call('SLOWLOG', 'GET', '10');
    assert.ok(!entries.includes('topsecret') && !entries.includes('$2\r\nsl\r\n'), entries);
    assert.ok(entries.includes('$3\r\nACL\r\n$7\r\nSETUSER\r\n$10\r\n(redacted)\r\n' +
      '$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n'), entries);
    assert.equal(await admin.call('ACL', 'DELUSER', 'sl'), ':1\r\n');
  } finally {
    admin.close();
  }
});

test('ACL DELUSER closes a logged-in ioredis client', async () => {
  const admin = await RespClient.connect(port());
  const eve = await connectIoredis(port(), { username: 'alice', password: 'alicepw' });
  try {
    assert.equal(await admin.call('ACL', 'SETUSER', 'eve', 'on', '>evepw', '~*', '+@all'),
      '+OK\r\n');
    assert.equal(await eve.call('AUTH', 'eve', 'evepw'), 'OK');
    assert.equal(await admin.call('ACL', 'DELUSER', 'eve'), ':1\r\n');
    await waitFor('the client to be closed', () => (eve.status === 'end' ? true : undefined),
      5000, 20);
  } finally {
    admin.close();
    eve.disconnect();
  }
});
