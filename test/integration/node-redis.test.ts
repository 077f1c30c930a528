/**
 * node-redis (the `redis` package, 6.x) against a real RingKV node, with its default RESP3
 * handshake (`HELLO 3`, whose failure rejects connect()) and with `RESP: 2`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, RESP_TYPES } from 'redis';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { assertSameBytes } from '../helpers/clients.js';

const BATCH_COMMANDS = 10_000;

let node: ServerProcess;

before(async () => {
  node = await startNode();
});

after(async () => {
  await node?.stop();
  node?.cleanup();
});

/** A node-redis client that never reconnects: a dropped connection fails the test. */
function newClient(protocol: 2 | 3, extra: { name?: string; database?: number;
    clientInfoTag?: string } = {}) {
  const client = createClient({
    socket: { host: '127.0.0.1', port: node.port, reconnectStrategy: false,
      connectTimeout: 5000 },
    RESP: protocol,
    ...extra,
  });
  // Without a listener an 'error' event would throw; the failing command reports it anyway.
  client.on('error', () => undefined);
  return client;
}

type Client = ReturnType<typeof newClient>;

function clientListLine(list: string, id: number): string {
  const line = list.split('\n').find((entry) => entry.startsWith(`id=${id} `));
  assert.ok(line !== undefined, `no CLIENT LIST line for id ${id}:\n${list}`);
  return line;
}

function protocolSuite(protocol: 2 | 3): void {
  describe(`node-redis with RESP${protocol}`, () => {
    let client: Client;
    const prefix = `nr${protocol}:`;

    before(async () => {
      client = newClient(protocol, { name: `node-redis-p${protocol}` });
      await client.connect();
    });

    after(() => {
      client?.destroy();
    });

    test('connects (handshake accepted) and negotiates the protocol', async () => {
      assert.equal(client.isReady, true);
      assert.equal(await client.ping(), 'PONG');
      const info = String(await client.sendCommand(['CLIENT', 'INFO']));
      assert.match(info, new RegExp(`\\bresp=${protocol}\\b`));
      // With RESP3 the name travels in HELLO SETNAME, with RESP2 in CLIENT SETNAME.
      assert.equal(await client.clientGetName(), `node-redis-p${protocol}`);
      const serverInfo = await client.info('server');
      assert.match(serverInfo, /^# Server\r\n/);
      assert.match(serverInfo, /\r\nredis_version:\d+\.\d+\.\d+\r\n/);
    });

    test('string and key commands', async () => {
      const key = `${prefix}k`;
      assert.equal(await client.set(key, 'v1'), 'OK');
      assert.equal(await client.get(key), 'v1');
      assert.equal(await client.get(`${prefix}missing`), null);
      assert.equal(await client.append(key, '23'), 4);
      assert.equal(await client.getRange(key, 1, 2), '12');
      assert.equal(await client.set(`${prefix}n`, '5', { condition: 'NX' }), 'OK');
      assert.equal(await client.set(`${prefix}n`, '6', { condition: 'NX' }), null);
      assert.equal(await client.incr(`${prefix}n`), 6);
      assert.equal(await client.incrBy(`${prefix}n`, 10), 16);
      assert.equal(await client.decr(`${prefix}n`), 15);
      await assert.rejects(client.incr(key), /ERR value is not an integer or out of range/);
      assert.equal(await client.mSet([`${prefix}a`, '1', `${prefix}b`, '2']), 'OK');
      assert.deepEqual(await client.mGet([`${prefix}a`, `${prefix}b`, `${prefix}c`]),
        ['1', '2', null]);
      assert.equal(await client.exists([`${prefix}a`, `${prefix}b`, `${prefix}c`]), 2);
      assert.equal(await client.type(key), 'string');
      assert.equal(await client.expire(key, 100), 1);
      const ttl = await client.ttl(key);
      assert.ok(ttl > 98 && ttl <= 100, `TTL ${ttl}`);
      assert.equal(await client.persist(key), 1);
      assert.deepEqual((await client.keys(`${prefix}*`)).sort(),
        [`${prefix}a`, `${prefix}b`, `${prefix}k`, `${prefix}n`]);
      const scanned: string[] = [];
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
        scanned.push(...keys);
      }
      assert.deepEqual(scanned.sort(), [`${prefix}a`, `${prefix}b`, `${prefix}k`, `${prefix}n`]);
      assert.equal(await client.del([`${prefix}a`, `${prefix}b`, key, `${prefix}n`]), 4);
      assert.deepEqual(await client.configGet('maxclients'), { maxclients: '10000' });
      const size = await client.dbSize();
      assert.equal(typeof size, 'number');
    });

    test(`batching without MULTI: ${BATCH_COMMANDS} commands in one tick, replies in order`,
        async () => {
      // Commands issued in the same tick go out as one pipeline (node-redis auto-pipelining).
      const replies = await Promise.all(Array.from({ length: BATCH_COMMANDS }, (_, index) =>
        index % 2 === 0 ? client.set(`${prefix}p${index}`, `v${index}`)
          : client.get(`${prefix}p${index - 1}`)));
      replies.forEach((reply, index) => {
        assert.equal(reply, index % 2 === 0 ? 'OK' : `v${index - 1}`, `reply ${index}`);
      });
      const removed = await Promise.all(Array.from({ length: BATCH_COMMANDS / 2 }, (_, half) =>
        client.del(`${prefix}p${half * 2}`)));
      assert.ok(removed.every((count) => count === 1));
    });

    test('multi().execAsPipeline(): a pipeline without MULTI/EXEC', async () => {
      const results = await client.multi()
        .set(`${prefix}x`, '1')
        .incr(`${prefix}x`)
        .get(`${prefix}x`)
        .echo('after')
        .del(`${prefix}x`)
        .execAsPipeline();
      assert.deepEqual(results, ['OK', 2, '2', 'after', 1]);
    });

    test('binary keys and values with a Buffer type mapping', async () => {
      const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      const key = Buffer.concat([Buffer.from(prefix), Buffer.from([0, 255, 13, 10, 0])]);
      const value = Buffer.from(Array.from({ length: 256 }, (_, index) => 255 - index));
      assert.equal(await binary.set(key, value), 'OK');
      assertSameBytes(await binary.get(key), value, 'binary value');
      assert.equal(await binary.del(key), 1);
    });

    test('SELECT through the database option', async () => {
      const other = newClient(protocol, { database: 5 });
      try {
        await other.connect();
        await other.set(`${prefix}db`, 'five');
        assert.equal(await client.get(`${prefix}db`), null);
        const line = String(await other.sendCommand(['CLIENT', 'INFO']));
        assert.match(line, /\bdb=5\b/);
        assert.equal(await other.get(`${prefix}db`), 'five');
        assert.equal(await other.del(`${prefix}db`), 1);
      } finally {
        other.destroy();
      }
    });

    test('CLIENT SETINFO lib-name and lib-ver show in CLIENT LIST', async () => {
      const tagged = newClient(protocol, { clientInfoTag: 'suite' });
      try {
        await tagged.connect();
        const list = String(await client.sendCommand(['CLIENT', 'LIST']));
        const own = clientListLine(list, await client.clientId());
        assert.match(own, /\blib-name=node-redis(\s|$)/);
        assert.match(own, /\blib-ver=\d+\.\d+\.\d+/);
        assert.match(own, new RegExp(`\\bname=node-redis-p${protocol}\\b`));
        const taggedLine = clientListLine(list, await tagged.clientId());
        assert.match(taggedLine, /\blib-name=node-redis\(suite\)/);
      } finally {
        tagged.destroy();
      }
    });
  });
}

protocolSuite(3);
protocolSuite(2);
