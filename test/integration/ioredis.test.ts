/**
 * ioredis against a real RingKV node, once with RESP2 (`protocol: 2`: AUTH/SELECT/INFO
 * handshake) and once with the default RESP3 (`HELLO 3` first). Each protocol gets its own
 * node so keyspace-wide checks (KEYS, SCAN, DBSIZE) see only their own keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import {
  assertSameBytes, connectIoredis, disconnectAll, infoField, parseInfo, type TestRedis,
} from '../helpers/clients.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const PIPELINE_COMMANDS = 10_000;
const BIG_VALUE_BYTES = 10 * 1024 * 1024;
const LONG_KEY_BYTES = 5000;
/** Uncommitted writes before KEYS in the stall test (enough to show seconds of stall). */
const STALL_WRITES = 300;

/** A key of `length` bytes that starts with `prefix` and varies in every position. */
function longKey(prefix: string, length: number, seed: number): Buffer {
  const key = Buffer.alloc(length);
  key.write(prefix);
  for (let index = prefix.length; index < length; index++) {
    key[index] = 97 + ((index * 7 + seed) % 26);
  }
  return key;
}

/** All SCAN pages of a MATCH pattern, as Buffers (the keys may not be valid UTF-8). */
async function scanAll(client: Redis, pattern: string): Promise<Buffer[]> {
  const keys: Buffer[] = [];
  let cursor = '0';
  let pages = 0;
  do {
    const [next, page] = await client.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', 100);
    keys.push(...page);
    cursor = next.toString();
    pages++;
    assert.ok(pages < 10_000, 'SCAN never returned cursor 0');
  } while (cursor !== '0');
  return keys;
}

function sortedHex(keys: readonly Buffer[]): string[] {
  return keys.map((key) => key.toString('hex')).sort();
}

function protocolSuite(protocol: 2 | 3): void {
  describe(`ioredis with protocol ${protocol}`, () => {
    let node: ServerProcess;
    let client: TestRedis;
    const extra: Redis[] = [];

    before(async () => {
      node = await startNode();
      client = await connectIoredis(node.port, { protocol, connectionName: `itest-p${protocol}` });
    });

    after(async () => {
      disconnectAll([client, ...extra]);
      await node?.stop();
      node?.cleanup();
    });

    test('connects: handshake, INFO ready check, negotiated protocol', async () => {
      assert.equal(client.status, 'ready');
      assert.equal(await client.ping(), 'PONG');
      const info = await client.client('INFO') as string;
      assert.match(info, new RegExp(`\\bresp=${protocol}\\b`));
      const hello = await client.hello(protocol) as unknown[];
      // Map replies arrive flattened ("legacy" reply mapping) under both protocols.
      const fields = new Map<string, unknown>();
      for (let index = 0; index + 1 < hello.length; index += 2) {
        fields.set(String(hello[index]), hello[index + 1]);
      }
      assert.equal(fields.get('server'), 'redis');
      assert.equal(fields.get('proto'), protocol);
      assert.equal(fields.get('mode'), 'standalone');
      assert.equal(client.errors.length, 0, client.errors.map(String).join('\n'));
      // The handshake went through: HELLO (RESP3 only), CLIENT SETNAME, two CLIENT SETINFO
      // and the INFO ready check all ran, none rejected or failed.
      const stats = parseInfo(await client.info('commandstats'));
      const handshake = ['cmdstat_client|setname', 'cmdstat_client|setinfo', 'cmdstat_info',
        ...(protocol === 3 ? ['cmdstat_hello'] : [])];
      const clean = /^calls=[1-9]\d*,.*,rejected_calls=0,failed_calls=0$/;
      for (const name of handshake) assert.match(infoField(stats, name), clean, name);
      assert.match(infoField(stats, 'cmdstat_client|setinfo'), /^calls=2,/);
    });

    test('string and key commands', async () => {
      assert.equal(await client.set('s:a', 'hello'), 'OK');
      assert.equal(await client.get('s:a'), 'hello');
      assert.equal(await client.get('s:missing'), null);
      assert.equal(await client.append('s:a', ' world'), 11);
      assert.equal(await client.strlen('s:a'), 11);
      assert.equal(await client.getrange('s:a', 0, 4), 'hello');
      assert.equal(await client.setrange('s:a', 6, 'World'), 11);
      assert.equal(await client.get('s:a'), 'hello World');
      assert.equal(await client.set('s:a', 'x', 'NX'), null);
      assert.equal(await client.set('s:b', '10', 'NX'), 'OK');
      assert.equal(await client.set('s:b', '10', 'XX', 'GET'), '10');
      assert.equal(await client.incr('s:b'), 11);
      assert.equal(await client.incrby('s:b', -20), -9);
      assert.equal(await client.decr('s:b'), -10);
      assert.equal(await client.decrby('s:b', 5), -15);
      assert.equal(await client.incrbyfloat('s:b', '0.5'), '-14.5');
      await assert.rejects(client.incr('s:a'), /ERR value is not an integer or out of range/);
      await assert.rejects(client.get('s:a', 'extra' as never),
        /ERR wrong number of arguments for 'get' command/);
      assert.equal(await client.mset('s:m1', '1', 's:m2', '2'), 'OK');
      assert.equal(await client.get('s:m2'), '2');
      assert.equal(await client.getset('s:m1', 'one'), '1');
      assert.equal(await client.getdel('s:m1'), 'one');
      assert.equal(await client.exists('s:a'), 1);
      assert.equal(await client.exists('s:m1'), 0);
      assert.equal(await client.type('s:a'), 'string');
      assert.equal(await client.type('s:m1'), 'none');
      assert.equal(await client.setnx('s:a', 'y'), 0);
      assert.deepEqual((await client.keys('s:*')).sort(), ['s:a', 's:b', 's:m2']);
      assert.equal(await client.setex('s:ttl', 100, 'v'), 'OK');
      const ttl = await client.ttl('s:ttl');
      assert.ok(ttl > 98 && ttl <= 100, `TTL ${ttl}`);
      const pttl = await client.pttl('s:ttl');
      assert.ok(pttl > 98_000 && pttl <= 100_000, `PTTL ${pttl}`);
      assert.equal(await client.getex('s:ttl', 'PERSIST'), 'v');
      assert.equal(await client.ttl('s:ttl'), -1);
      assert.equal(await client.ttl('s:none'), -2);
      for (const key of ['s:a', 's:b', 's:m2', 's:ttl']) assert.equal(await client.del(key), 1);
      assert.equal(await client.del('s:none'), 0);
      assert.deepEqual(await client.keys('s:*'), []);
    });

    // Multi-key commands read several records; SAVE first so they come from LMDB rather
    // than from the engine's in-memory overlay of writes not yet committed.
    // Regression: at a614236 these failed with ERR internal error (lmdb-js's reused read
    // buffer was copied whole); fixed in bd5d9e0.
    test('multi-key commands on committed keys (MGET, EXISTS, DEL, RENAME, COPY)', async () => {
      await client.mset('mk:a', '1', 'mk:b', '2');
      assert.equal(await client.save(), 'OK');
      assert.deepEqual(await client.mget('mk:a', 'mk:b', 'mk:none'), ['1', '2', null]);
      assert.equal(await client.exists('mk:a', 'mk:b', 'mk:none'), 2);
      assert.equal(await client.msetnx('mk:a', 'x', 'mk:c', 'y'), 0);
      assert.equal(await client.rename('mk:a', 'mk:renamed'), 'OK');
      assert.equal(await client.get('mk:renamed'), '1');
      await client.save();
      assert.equal(await client.renamenx('mk:renamed', 'mk:b'), 0);
      assert.equal(await client.copy('mk:renamed', 'mk:copy'), 1);
      assert.equal(await client.get('mk:copy'), '1');
      await client.save();
      assert.equal(await client.del('mk:b', 'mk:copy', 'mk:renamed', 'mk:none'), 3);
      assert.deepEqual(await client.keys('mk:*'), []);
    });

    test(`a pipeline of ${PIPELINE_COMMANDS} commands gets every reply, in order`, async () => {
      const pipeline = client.pipeline();
      for (let index = 0; index < PIPELINE_COMMANDS; index++) {
        // SET, GET of that key, ECHO of a counter: a reply out of place shows at once.
        if (index % 3 === 0) pipeline.set(`p:${index}`, `v${index}`);
        else if (index % 3 === 1) pipeline.get(`p:${index - 1}`);
        else pipeline.echo(`e${index}`);
      }
      const results = await pipeline.exec();
      assert.ok(results !== null);
      assert.equal(results.length, PIPELINE_COMMANDS);
      results.forEach(([error, reply], index) => {
        assert.equal(error, null, `command ${index}`);
        const expected = index % 3 === 0 ? 'OK' : index % 3 === 1 ? `v${index - 1}` : `e${index}`;
        assert.equal(reply, expected, `reply ${index}`);
      });
      const cleanup = client.pipeline();
      for (let index = 0; index < PIPELINE_COMMANDS; index += 3) cleanup.del(`p:${index}`);
      await cleanup.exec();
    });

    test('keys and values are binary safe (every byte value, NUL, CR LF)', async () => {
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, index) => index));
      const reversed = Buffer.from(everyByte).reverse();
      assert.equal(await client.set(everyByte, reversed), 'OK');
      assert.deepEqual(await client.getBuffer(everyByte), reversed);
      const nulKey = Buffer.from('b:\0nul\r\nkey\0');
      const nulValue = Buffer.from('\0\0\r\n$3\r\n*1\r\n\0');
      await client.set(nulKey, nulValue);
      assert.deepEqual(await client.getBuffer(nulKey), nulValue);
      assert.equal(await client.exists(nulKey), 1);
      assert.equal(await client.exists(Buffer.from('b:\0nul\r\nkey')), 0);
      await client.set('b:empty', '');
      assert.deepEqual(await client.getBuffer('b:empty'), Buffer.alloc(0));

      // One key per byte value, each holding that byte around a NUL.
      const pipeline = client.pipeline();
      for (let byte = 0; byte < 256; byte++) {
        pipeline.set(Buffer.from([byte]), Buffer.from([byte, 0, byte]));
      }
      for (let byte = 0; byte < 256; byte++) pipeline.getBuffer(Buffer.from([byte]));
      const results = await pipeline.exec();
      assert.ok(results !== null);
      for (let byte = 0; byte < 256; byte++) {
        assert.deepEqual(results[256 + byte]?.[1], Buffer.from([byte, 0, byte]), `byte ${byte}`);
      }
      // KEYS and SCAN after the writes are committed (see the stall test for why).
      await client.save();
      const singleByteKeys = (await client.keysBuffer('?')).filter((key) => key.length === 1);
      assert.equal(singleByteKeys.length, 256);
      const scanned = await scanAll(client, 'b:*');
      assert.deepEqual(sortedHex(scanned), sortedHex([nulKey, Buffer.from('b:empty')]));
      const removeAll = client.pipeline();
      for (let byte = 0; byte < 256; byte++) removeAll.del(Buffer.from([byte]));
      for (const key of [everyByte, nulKey, Buffer.from('b:empty')]) removeAll.del(key);
      await removeAll.exec();
    });

    test('a 10 MB value round-trips intact', async () => {
      const value = Buffer.alloc(BIG_VALUE_BYTES);
      for (let index = 0; index < value.length; index += 4) value.writeUInt32LE(index, index);
      assert.equal(await client.set('big', value), 'OK');
      assert.equal(await client.strlen('big'), BIG_VALUE_BYTES);
      const read = await client.getBuffer('big');
      assertSameBytes(read, value, '10 MB value');
      assert.equal(await client.del('big'), 1);
    });

    test(`keys of ${LONG_KEY_BYTES} bytes (past LMDB's key limit) behave like any key`,
        async () => {
      // Two long keys share all but their last byte, so only the digest tells them apart.
      const first = longKey('L:', LONG_KEY_BYTES, 1);
      const second = Buffer.from(first);
      second[LONG_KEY_BYTES - 1] = 0x30;
      const third = longKey('L:', LONG_KEY_BYTES, 2);
      assert.equal(await client.set(first, 'one'), 'OK');
      assert.equal(await client.set(second, 'two'), 'OK');
      // Once before and once after the writes reach LMDB (SAVE flushes them).
      for (const phase of ['pending', 'committed']) {
        assertSameBytes(await client.getBuffer(first), Buffer.from('one'), `${phase} first`);
        assertSameBytes(await client.getBuffer(second), Buffer.from('two'), `${phase} second`);
        assert.equal(await client.exists(first), 1);
        assert.equal(await client.exists(third), 0);
        assert.equal(await client.strlen(second), 3);
        assert.deepEqual(sortedHex(await client.keysBuffer('L:*')), sortedHex([first, second]));
        assert.deepEqual(sortedHex(await scanAll(client, 'L:*')), sortedHex([first, second]));
        await client.save();
      }
      assert.equal(await client.expire(second, 100), 1);
      assert.ok((await client.ttl(second)) > 0);
      assert.equal(await client.append(second, '!'), 4);
      assert.equal(await client.del(first), 1);
      assert.equal(await client.del(second), 1);
      assert.equal(await client.del(third), 0);
      assert.deepEqual(await client.keysBuffer('L:*'), []);
    });

    // Regression: at a614236 a committed long key renamed to a short one held 16 MB of
    // garbage (the whole lmdb-js read buffer); fixed in bd5d9e0.
    test(`RENAME between ${LONG_KEY_BYTES}-byte and short keys`, async () => {
      const source = longKey('R:', LONG_KEY_BYTES, 4);
      const target = longKey('R:', LONG_KEY_BYTES, 5);
      try {
        await client.set(source, 'one');
        await client.save();
        assert.equal(await client.rename(source, target), 'OK');
        assert.equal(await client.exists(source), 0);
        await client.save();
        assertSameBytes(await client.getBuffer(target), Buffer.from('one'), 'long to long');
        assert.equal(await client.rename(target, 'R:short'), 'OK');
        await client.save();
        assertSameBytes(await client.getBuffer('R:short'), Buffer.from('one'), 'long to short');
        assert.equal(await client.rename('R:short', source), 'OK');
        await client.save();
        assertSameBytes(await client.getBuffer(source), Buffer.from('one'), 'short to long');
        assert.deepEqual(sortedHex(await client.keysBuffer('R:*')), sortedHex([source]));
      } finally {
        for (const key of [source, target, Buffer.from('R:short')]) await client.del(key);
      }
    });

    test('keys at the inline/digest storage boundary stay distinct', async () => {
      const lengths = [1899, 1900, 1901, 1978, 1979, 2048];
      const keys = lengths.map((length) => longKey('K:', length, 3));
      for (const [index, key] of keys.entries()) await client.set(key, `len${lengths[index]}`);
      await client.save();
      for (const [index, key] of keys.entries()) {
        assertSameBytes(await client.getBuffer(key), Buffer.from(`len${lengths[index]}`),
          `key of ${lengths[index]} bytes`);
      }
      assert.deepEqual(sortedHex(await client.keysBuffer('K:*')), sortedHex(keys));
      assert.deepEqual(sortedHex(await scanAll(client, 'K:*')), sortedHex(keys));
      for (const key of keys) assert.equal(await client.del(key), 1);
    });

    if (protocol === 3) {
      test('KEYS right after a burst of writes does not stall the server', async () => {
        const pipeline = client.pipeline();
        for (let index = 0; index < STALL_WRITES; index++) pipeline.set(`stall:${index}`, 'v');
        pipeline.keys('stall:*');
        const started = performance.now();
        const results = await pipeline.exec();
        const elapsedMs = performance.now() - started;
        const keys = results?.at(-1)?.[1];
        assert.ok(Array.isArray(keys) && keys.length === STALL_WRITES);
        assert.ok(elapsedMs < 1000, `${STALL_WRITES} SETs and KEYS took ${elapsedMs} ms`);
        const cleanup = client.pipeline();
        for (let index = 0; index < STALL_WRITES; index++) cleanup.del(`stall:${index}`);
        await cleanup.exec();
      });
    }

    test('SELECT: databases are separate', async () => {
      const inDb3 = await connectIoredis(node.port, { protocol, db: 3 });
      extra.push(inDb3);
      await inDb3.set('db:key', 'three');
      assert.equal(await inDb3.get('db:key'), 'three');
      assert.equal(await client.get('db:key'), null);
      assert.equal(await inDb3.dbsize(), 1);
      assert.equal(await inDb3.select(7), 'OK');
      assert.equal(await inDb3.get('db:key'), null);
      await inDb3.set('db:key', 'seven');
      assert.equal(await inDb3.select(3), 'OK');
      assert.equal(await inDb3.get('db:key'), 'three');
      await assert.rejects(inDb3.select(16), /ERR DB index is out of range/);
      const info = parseInfo(await client.info('keyspace'));
      assert.match(infoField(info, 'db3'), /^keys=1,expires=0,/);
      assert.match(infoField(info, 'db7'), /^keys=1,expires=0,/);
      await inDb3.flushdb();
      assert.equal(await inDb3.dbsize(), 0);
      await inDb3.select(7);
      assert.equal(await inDb3.dbsize(), 1);
      await inDb3.flushdb();
    });

    test('EXPIRE: keys vanish without being read (active expiry)', async () => {
      const before = await client.dbsize();
      const pipeline = client.pipeline();
      for (let index = 0; index < 20; index++) {
        pipeline.set(`x:${index}`, 'v');
        if (index < 10) pipeline.expire(`x:${index}`, 1);
        else pipeline.pexpire(`x:${index}`, 300);
      }
      await pipeline.exec();
      await client.set('x:kept', 'v', 'EX', 100);
      assert.equal(await client.dbsize(), before + 21);
      const expiresBefore = parseInfo(await client.info('keyspace')).get('db0') ?? '';
      assert.match(expiresBefore, /expires=21\b/);
      const expiredBefore = Number(infoField(parseInfo(await client.info('stats')),
        'expired_keys'));
      // DBSIZE counts keys without touching them: only the expiry cycle can lower it.
      await waitFor('expired keys to be removed', async () =>
        (await client.dbsize()) === before + 1 ? true : undefined, 5000, 50);
      const stats = parseInfo(await client.info('stats'));
      assert.equal(Number(infoField(stats, 'expired_keys')) - expiredBefore, 20);
      assert.match(infoField(parseInfo(await client.info('keyspace')), 'db0'), /expires=1\b/);
      assert.equal(await client.get('x:kept'), 'v');
      await client.del('x:kept');
    });

    test('quit(): OK, then the connection closes', async () => {
      const quitting = await connectIoredis(node.port, { protocol });
      const closed = new Promise<void>((resolve) => quitting.once('end', resolve));
      assert.equal(await quitting.quit(), 'OK');
      await closed;
      assert.equal(quitting.status, 'end');
    });

    test('connectionName and CLIENT SETINFO appear in CLIENT LIST', async () => {
      assert.equal(await client.client('GETNAME'), `itest-p${protocol}`);
      const tagged = await connectIoredis(node.port, { protocol, clientInfoTag: 'suite',
        connectionName: 'tagged' });
      extra.push(tagged);
      const id = await client.client('ID') as number;
      const list = await client.client('LIST') as string;
      const line = list.split('\n').find((entry) => entry.startsWith(`id=${id} `));
      assert.ok(line !== undefined, list);
      assert.match(line, new RegExp(`\\bname=itest-p${protocol}\\b`));
      assert.match(line, /\blib-name=ioredis(\s|$)/);
      assert.match(line, /\blib-ver=\d+\.\d+\.\d+/);
      assert.match(line, new RegExp(`\\bresp=${protocol}\\b`));
      const taggedLine = list.split('\n').find((entry) => / name=tagged /.test(entry));
      assert.ok(taggedLine !== undefined, list);
      assert.match(taggedLine, /\blib-name=ioredis\(suite\)/);
    });
  });
}

protocolSuite(2);
protocolSuite(3);
