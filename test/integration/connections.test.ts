/**
 * Connection-level behaviour of a real node: passwords (raw, ioredis, node-redis), the
 * limits on unauthenticated clients, QUIT, RESET, CLIENT REPLY / KILL, maxclients, idle
 * timeouts, and protocol errors that must close only the offending connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createClient } from 'redis';
import { connectIoredis, type TestRedis } from '../helpers/clients.js';
import { freePort } from '../helpers/ports.js';
import { startNode, temporaryDirectory, type ServerProcess } from '../helpers/processes.js';
import { startServerCommand } from '../helpers/server-command.js';
import { RespClient } from '../helpers/resp-client.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 's3cret pass';
const NOAUTH = '-NOAUTH Authentication required.\r\n';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';

/** Raw clients opened by a test, closed by `closeRaw` in its `after`. */
const rawClients: RespClient[] = [];

async function raw(port: number): Promise<RespClient> {
  const client = await RespClient.connect(port);
  rawClients.push(client);
  return client;
}

function closeRaw(): void {
  for (const client of rawClients.splice(0)) client.close();
}

/** Stops a node, requiring a clean exit (a hang in shutdown fails the suite). */
async function stopNode(node: ServerProcess | undefined): Promise<void> {
  closeRaw();
  if (node === undefined) return;
  try {
    assert.equal(await node.stop(), 0, node.output());
  } finally {
    node.cleanup();
  }
}

describe('requirepass', () => {
  let node: ServerProcess;
  let dir: string;
  before(async () => {
    const port = await freePort();
    dir = temporaryDirectory('ringkv-auth');
    node = await startServerCommand(['--port', String(port), '--dir', dir, '--requirepass',
      PASSWORD], { port, dir, password: PASSWORD });
  });
  after(async () => {
    await stopNode(node);
    rmSync(dir, { recursive: true, force: true });
  });

  test('raw: NOAUTH before AUTH (connection stays open), WRONGPASS, then AUTH', async () => {
    const client = await raw(node.port);
    assert.equal(await client.call('GET', 'k'), NOAUTH);
    assert.equal(await client.call('PING'), NOAUTH);
    assert.equal(await client.call('AUTH', 'wrong'), WRONGPASS);
    assert.equal(await client.call('AUTH', 'nobody', PASSWORD), WRONGPASS);
    assert.equal(await client.call('SET', 'k', 'v'), NOAUTH);
    assert.equal(await client.call('AUTH', PASSWORD), '+OK\r\n');
    assert.equal(await client.call('SET', 'k', 'v'), '+OK\r\n');
    const other = await raw(node.port);
    assert.equal(await other.call('AUTH', 'default', PASSWORD), '+OK\r\n');
    assert.equal(await other.call('GET', 'k'), '$1\r\nv\r\n');
  });

  test('raw: HELLO needs authentication unless it carries AUTH', async () => {
    const client = await raw(node.port);
    assert.match(await client.call('HELLO', '3'),
      /^-NOAUTH HELLO must be called with the client already authenticated/);
    assert.equal(await client.call('HELLO', '3', 'AUTH', 'default', 'wrong'), WRONGPASS);
    assert.match(await client.call('HELLO', '3', 'AUTH', 'default', PASSWORD), /^%7\r\n/);
    assert.equal(await client.call('GET', 'k'), '$1\r\nv\r\n');
  });

  test('unauthenticated clients: at most 10 arguments and 16 KB per argument', async () => {
    const ten = await raw(node.port);
    assert.equal(await ten.call('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e'), NOAUTH);
    assert.equal(ten.isClosed, false);
    const eleven = await raw(node.port);
    eleven.send('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5');
    const closing = await eleven.closedByServer();
    assert.equal(closing.toString(), '-ERR Protocol error: unauthenticated multibulk length\r\n');
    const bigBulk = await raw(node.port);
    bigBulk.write('*2\r\n$3\r\nGET\r\n$20000\r\n');
    assert.equal((await bigBulk.closedByServer()).toString(),
      '-ERR Protocol error: unauthenticated bulk length\r\n');
    const limitBulk = await raw(node.port);
    assert.equal(await limitBulk.call('AUTH', 'x'.repeat(16384)), WRONGPASS);
    // After AUTH the limits are the normal ones.
    assert.equal(await ten.call('AUTH', PASSWORD), '+OK\r\n');
    assert.equal(await ten.call('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5'),
      '+OK\r\n');
    assert.equal(await ten.call('SET', 'big', 'y'.repeat(20000)), '+OK\r\n');
  });

  test('RESET drops authentication', async () => {
    const client = await raw(node.port);
    assert.equal(await client.call('AUTH', PASSWORD), '+OK\r\n');
    assert.equal(await client.call('RESET'), '+RESET\r\n');
    assert.equal(await client.call('GET', 'k'), NOAUTH);
  });

  for (const protocol of [2, 3] as const) {
    test(`ioredis protocol ${protocol}: password option works, a wrong one fails`,
        async () => {
      const good = await connectIoredis(node.port, { protocol, password: PASSWORD });
      try {
        assert.equal(await good.get('k'), 'v');
        assert.equal(await good.incr(`counter${protocol}`), 1);
      } finally {
        good.disconnect();
      }
      await assert.rejects(connectIoredis(node.port, { protocol, password: 'wrong' }));
      await assert.rejects(connectIoredis(node.port, { protocol }));
    });

    test(`node-redis RESP${protocol}: password option works, a wrong one fails`,
        async () => {
      const make = (password: string) => {
        const client = createClient({ socket: { host: '127.0.0.1', port: node.port,
          reconnectStrategy: false }, RESP: protocol, password });
        client.on('error', () => undefined);
        return client;
      };
      const good = make(PASSWORD);
      try {
        await good.connect();
        assert.equal(await good.get('k'), 'v');
      } finally {
        good.destroy();
      }
      const bad = make('wrong');
      try {
        await assert.rejects(bad.connect(), /WRONGPASS/);
      } finally {
        if (bad.isOpen) bad.destroy();
      }
    });
  }
});

describe('connection commands', () => {
  let node: ServerProcess;
  let client: TestRedis;
  before(async () => {
    node = await startNode();
    client = await connectIoredis(node.port);
  });
  after(async () => {
    client?.disconnect();
    await stopNode(node);
  });

  test('QUIT answers OK, closes, and ignores what follows it', async () => {
    const quitter = await raw(node.port);
    quitter.write('*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$10\r\nquit:after\r\n$1\r\n1\r\n');
    assert.equal((await quitter.closedByServer()).toString(), '+OK\r\n');
    assert.equal(await client.exists('quit:after'), 0);
  });

  test('RESET restores database, name, protocol and reply mode', async () => {
    const resetting = await raw(node.port);
    assert.equal(await resetting.call('SELECT', '3'), '+OK\r\n');
    assert.equal(await resetting.call('CLIENT', 'SETNAME', 'before-reset'), '+OK\r\n');
    assert.match(await resetting.call('HELLO', '3'), /^%7\r\n/);
    assert.equal(await resetting.call('RESET'), '+RESET\r\n');
    const info = await resetting.call('CLIENT', 'INFO');
    assert.match(info, /^\$\d+\r\n/, 'RESP2 again: CLIENT INFO is a bulk string');
    assert.match(info, / name= /);
    assert.match(info, / db=0 /);
    assert.match(info, / resp=2 /);
  });

  test('CLIENT REPLY SKIP drops exactly the next reply (raw client)', async () => {
    const skipping = await raw(node.port);
    skipping.send('CLIENT', 'REPLY', 'SKIP');
    skipping.send('PING', 'skipped');
    skipping.send('PING', 'shown');
    const [shown] = await skipping.replies(1);
    assert.equal(shown?.toString(), '$5\r\nshown\r\n');
    assert.equal(await skipping.call('PING'), '+PONG\r\n');
  });

  // Redis 7.0.15 answers `CLIENT REPLY ON` with +OK even after OFF (verified on loopback).
  test('CLIENT REPLY OFF drops replies; CLIENT REPLY ON answers OK (raw client)', async () => {
    const quiet = await raw(node.port);
    quiet.send('CLIENT', 'REPLY', 'OFF');
    quiet.send('SET', 'reply:k', 'off');
    quiet.send('PING', 'not-shown');
    quiet.send('CLIENT', 'REPLY', 'ON');
    quiet.send('GET', 'reply:k');
    const replies = await quiet.replies(2, 1000);
    assert.deepEqual(replies.map((reply) => reply.toString()), ['+OK\r\n', '$3\r\noff\r\n']);
  });

  test('CLIENT REPLY OFF drops replies until CLIENT REPLY ON', async () => {
    const quiet = await raw(node.port);
    quiet.send('CLIENT', 'REPLY', 'OFF');
    quiet.send('SET', 'reply:k2', 'off');
    quiet.send('PING', 'not-shown');
    quiet.send('CLIENT', 'REPLY', 'ON');
    // Whatever CLIENT REPLY ON answers, the next reply must be this PING's.
    quiet.send('PING', 'first-after-on');
    const replies = await quiet.replies(1);
    const texts = replies.map((reply) => reply.toString());
    const expected = '$14\r\nfirst-after-on\r\n';
    if (texts[0] === '+OK\r\n') {
      assert.equal((await quiet.replies(1))[0]?.toString(), expected);
    } else {
      assert.equal(texts[0], expected);
    }
    assert.equal(await client.get('reply:k2'), 'off');
  });

  // Redis 7.0.15 reports the running command: `CLIENT INFO` shows cmd=client|info.
  test('CLIENT INFO and CLIENT LIST show the running command as cmd=', async () => {
    const inspected = await raw(node.port);
    assert.equal(await inspected.call('PING'), '+PONG\r\n');
    assert.match(await inspected.call('CLIENT', 'INFO'), / cmd=client\|info /);
    const id = (await inspected.call('CLIENT', 'ID')).slice(1, -2);
    const list = await inspected.call('CLIENT', 'LIST', 'ID', id);
    assert.match(list, / cmd=client\|list /);
  });

  test('CLIENT KILL closes another connection (by ID, by address, with filters)', async () => {
    const victim = await raw(node.port);
    const victimId = Number((await victim.call('CLIENT', 'ID')).slice(1, -2));
    assert.equal(await client.client('KILL', 'ID', victimId), 1);
    await victim.closedByServer();
    assert.equal(await client.client('KILL', 'ID', 99999), 0);

    const second = await raw(node.port);
    const info = await second.call('CLIENT', 'INFO');
    const address = / addr=(\S+) /.exec(info)?.[1];
    assert.ok(address !== undefined, info);
    assert.equal(await client.client('KILL', address), 'OK');
    await second.closedByServer();
    await assert.rejects(client.client('KILL', address), /ERR No such client/);

    // SKIPME yes (the default) spares the caller even when the filter matches it; with
    // SKIPME no the caller gets its reply and is then closed.
    const self = await raw(node.port);
    const selfId = (await self.call('CLIENT', 'ID')).slice(1, -2);
    assert.equal(await self.call('CLIENT', 'KILL', 'ID', selfId), ':0\r\n');
    assert.equal(await self.call('CLIENT', 'KILL', 'ID', selfId, 'SKIPME', 'yes'), ':0\r\n');
    assert.equal(await self.call('PING'), '+PONG\r\n');
    self.send('CLIENT', 'KILL', 'ID', selfId, 'SKIPME', 'no');
    assert.equal((await self.closedByServer()).toString(), ':1\r\n');
    assert.equal(await client.ping(), 'PONG');
  });

  test('a protocol error closes only that connection', async () => {
    const healthy = await connectIoredis(node.port);
    try {
      const broken = await raw(node.port);
      broken.write('*1\r\nx\r\n');
      assert.equal((await broken.closedByServer()).toString(),
        "-ERR Protocol error: expected '$', got 'x'\r\n");
      const unbalanced = await raw(node.port);
      unbalanced.write('SET "open\r\n');
      assert.equal((await unbalanced.closedByServer()).toString(),
        '-ERR Protocol error: unbalanced quotes in request\r\n');
      const http = await raw(node.port);
      http.write('POST / HTTP/1.1\r\nHost: example\r\n\r\n');
      assert.equal((await http.closedByServer()).toString(), '');
      assert.equal(await healthy.set('still', 'working'), 'OK');
      assert.equal(await healthy.get('still'), 'working');
    } finally {
      healthy.disconnect();
    }
  });

  test('inline commands', async () => {
    const inline = await raw(node.port);
    inline.write('PING\r\nSET inline:k "a b"\r\nGET inline:k\r\n\r\nEXISTS inline:k\n');
    const replies = await inline.replies(4);
    assert.deepEqual(replies.map((reply) => reply.toString()),
      ['+PONG\r\n', '+OK\r\n', '$3\r\na b\r\n', ':1\r\n']);
  });
});

/** connected_clients as INFO reports it to `client`. */
async function connectedClients(client: RespClient): Promise<number> {
  const info = await client.call('INFO', 'clients');
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]);
}

describe('maxclients 2', () => {
  let node: ServerProcess;
  before(async () => {
    node = await startNode({ args: ['--maxclients', '2'] });
  });
  after(async () => stopNode(node));

  test('the third connection gets the max clients error and is closed', async () => {
    // Connect only into free slots (the startup probe's connection may still count), so
    // no refused connection ever sends a command (see the next test for why).
    const first = await raw(node.port);
    await waitFor('the startup probe to leave', async () =>
      (await connectedClients(first)) === 1 ? true : undefined);
    const second = await raw(node.port);
    assert.equal(await connectedClients(second), 2);
    const third = await raw(node.port);
    assert.equal((await third.closedByServer()).toString(),
      '-ERR max number of clients reached\r\n');
    assert.equal(await first.call('PING'), '+PONG\r\n');
    // Once a slot frees up, a new client is admitted.
    first.close();
    await waitFor('a slot to free up', async () =>
      (await connectedClients(second)) === 1 ? true : undefined);
    const later = await raw(node.port);
    assert.equal(await later.call('PING'), '+PONG\r\n');
    assert.match(await later.call('INFO', 'stats'), /rejected_connections:[1-9]/);
  });

  test('a refused client that had sent a command does not keep the node from stopping',
    async () => {
    const own = await startNode({ args: ['--maxclients', '2'] });
    try {
      const first = await RespClient.connect(own.port);
      await waitFor('the startup probe to leave', async () =>
        (await connectedClients(first)) === 1 ? true : undefined);
      const second = await RespClient.connect(own.port);
      assert.equal(await connectedClients(second), 2);
      const refused = await RespClient.connect(own.port);
      refused.write('PING\r\n');
      assert.equal((await refused.closedByServer()).toString(),
        '-ERR max number of clients reached\r\n');
      refused.close();
      second.close();
      first.close();
      own.signal('SIGTERM');
      assert.equal(await own.exited(5000), 0);
    } finally {
      own.signal('SIGKILL');
      await own.exited();
      own.cleanup();
    }
  });
});

describe('timeout 1', () => {
  let node: ServerProcess;
  before(async () => {
    node = await startNode({ args: ['--timeout', '1'] });
  });
  after(async () => stopNode(node));

  test('idle clients are closed; active ones are not', async () => {
    const idle = await raw(node.port);
    const active = await raw(node.port);
    assert.equal(await idle.call('PING'), '+PONG\r\n');
    const startedMs = Date.now();
    // The active client keeps talking while we wait for the idle one to be dropped.
    await waitFor('the idle client to be closed', async () => {
      assert.equal(await active.call('PING'), '+PONG\r\n');
      return idle.isClosed ? true : undefined;
    }, 5000, 200);
    const idleForMs = Date.now() - startedMs;
    assert.ok(idleForMs >= 900, `closed after ${idleForMs} ms, before the 1 s timeout`);
    assert.equal(active.isClosed, false);
    assert.equal(await active.call('PING'), '+PONG\r\n');
  });
});
