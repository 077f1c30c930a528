/**
 * Orderly restarts of a real node on the same data directory: SIGTERM and the SHUTDOWN
 * command both exit 0 after flushing, and everything written (values, databases, TTLs)
 * is there after the restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  assertSameBytes, connectIoredis, infoField, parseInfo, type TestRedis,
} from '../helpers/clients.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { RespClient } from '../helpers/resp-client.js';
import { waitFor } from '../helpers/wait.js';

const KEYS = 3000;
const BIG_VALUE_BYTES = 1024 * 1024;

/** What was written before a restart, to check after it. */
interface Written {
  /** Absolute expiry (PEXPIRETIME) of every key written with a TTL. */
  expiries: Map<string, number>;
  bigValue: Buffer;
  longKey: Buffer;
  /** A key whose TTL ends while the node is down. */
  shortLivedExpiresAtMs: number;
}

function valueOf(index: number): Buffer {
  // Binary values: the index, a NUL and a byte pattern that differs per key.
  return Buffer.concat([Buffer.from(`value-${index}\0`), Buffer.from([index & 0xff, 0xff, 0])]);
}

async function writeDataset(client: TestRedis): Promise<Written> {
  const pipeline = client.pipeline();
  for (let index = 0; index < KEYS; index++) {
    const key = `p:${index}`;
    if (index % 3 === 0) pipeline.set(key, valueOf(index), 'EX', 1000 + index);
    else if (index % 3 === 1) pipeline.set(key, valueOf(index), 'PXAT', Date.now() + 3_600_000);
    else pipeline.set(key, valueOf(index));
  }
  for (let index = 0; index < 100; index++) pipeline.incrby(`ctr:${index % 10}`, index);
  await pipeline.exec();
  const expiries = new Map<string, number>();
  for (let index = 0; index < KEYS; index++) {
    if (index % 3 === 2) continue;
    const key = `p:${index}`;
    expiries.set(key, await client.pexpiretime(key));
  }
  const bigValue = Buffer.alloc(BIG_VALUE_BYTES, 0x5a);
  bigValue.write('start');
  await client.set('big', bigValue);
  const longKey = Buffer.alloc(4000, 0x6c);
  await client.set(longKey, 'long-key-value', 'EX', 5000);
  expiries.set(longKey.toString('latin1'), await client.pexpiretime(longKey));
  await client.select(2);
  await client.set('db2:key', 'in db 2');
  await client.select(0);
  await client.set('short-lived', 'v', 'PX', 300);
  const shortLivedExpiresAtMs = await client.pexpiretime('short-lived');
  return { expiries, bigValue, longKey, shortLivedExpiresAtMs };
}

async function checkDataset(client: TestRedis, written: Written): Promise<void> {
  const pipeline = client.pipeline();
  for (let index = 0; index < KEYS; index++) pipeline.getBuffer(`p:${index}`);
  const results = await pipeline.exec();
  assert.ok(results !== null);
  for (let index = 0; index < KEYS; index++) {
    assertSameBytes(results[index]?.[1] as Buffer | null, valueOf(index), `p:${index}`);
  }
  for (let counter = 0; counter < 10; counter++) {
    // Counter c got the increments c, c + 10, ..., c + 90.
    assert.equal(await client.get(`ctr:${counter}`), String(10 * counter + 450));
  }
  for (const [key, expireAtMs] of written.expiries) {
    const name = key.startsWith('p:') ? key : Buffer.from(key, 'latin1');
    assert.equal(await client.pexpiretime(name), expireAtMs, `expiry of ${key.slice(0, 20)}`);
  }
  assertSameBytes(await client.getBuffer('big'), written.bigValue, 'big value');
  assert.equal(await client.get(written.longKey), 'long-key-value');
  assert.equal(await client.ttl('p:2'), -1);
  await client.select(2);
  assert.equal(await client.get('db2:key'), 'in db 2');
  assert.equal(await client.dbsize(), 1);
  await client.select(0);
  // Expired while the node was down: never visible, and the expiry cycle removes it.
  assert.equal(await client.exists('short-lived'), 0);
  const expected = KEYS + 10 + 2;
  await waitFor('DBSIZE without the expired key', async () =>
    (await client.dbsize()) === expected ? true : undefined, 5000, 50);
  const keyspace = parseInfo(await client.info('keyspace'));
  assert.equal(infoField(keyspace, 'db0').split(',').slice(0, 2).join(','),
    `keys=${expected},expires=${written.expiries.size}`);
  assert.match(infoField(keyspace, 'db2'), /^keys=1,expires=0\b/);
}

async function restartAndCheck(dir: string, written: Written): Promise<void> {
  // The short-lived key must be past its expiry before the node starts again.
  await waitFor('the short-lived key to be past its TTL', () =>
    Date.now() > written.shortLivedExpiresAtMs + 10 ? true : undefined, 5000, 20);
  const restarted = await startNode({ dir });
  let client: TestRedis | undefined;
  try {
    client = await connectIoredis(restarted.port);
    await checkDataset(client, written);
  } finally {
    client?.disconnect();
    assert.equal(await restarted.stop(), 0, restarted.output());
  }
}

test('SIGTERM: exits 0 after flushing; a restart has every key, value and TTL', async () => {
  const node = await startNode();
  let client: TestRedis | undefined;
  try {
    client = await connectIoredis(node.port);
    const written = await writeDataset(client);
    client.disconnect();
    const code = await node.stop();
    assert.equal(code, 0, node.output());
    assert.match(node.output(), /shutting down/);
    assert.match(node.output(), /stopped; data flushed to disk/);
    await restartAndCheck(node.dir, written);
  } finally {
    client?.disconnect();
    await node.stop();
    node.cleanup();
  }
});

test('SHUTDOWN: closes without a reply, exits 0, data intact after a restart', async () => {
  const node = await startNode();
  let client: TestRedis | undefined;
  try {
    client = await connectIoredis(node.port);
    const written = await writeDataset(client);
    const raw = await RespClient.connect(node.port);
    raw.send('SHUTDOWN');
    // Redis answers a successful SHUTDOWN by closing the connection, without a reply.
    const received = await raw.closedByServer(15_000);
    assert.equal(received.toString('latin1'), '');
    assert.equal(await node.exited(), 0, node.output());
    assert.match(node.output(), /stopped; data flushed to disk/);
    client.disconnect();
    await restartAndCheck(node.dir, written);
  } finally {
    client?.disconnect();
    await node.stop();
    node.cleanup();
  }
});

test('SHUTDOWN NOSAVE and SHUTDOWN ABORT', async (t) => {
  const node: ServerProcess = await startNode();
  try {
    const raw = await RespClient.connect(node.port);
    assert.equal(await raw.call('SHUTDOWN', 'ABORT'), '-ERR No shutdown in progress.\r\n');
    assert.equal(await raw.call('SHUTDOWN', 'BOGUS'), '-ERR syntax error\r\n');
    assert.equal(await raw.call('SET', 'kept', 'yes'), '+OK\r\n');
    raw.send('SHUTDOWN', 'NOSAVE');
    await raw.closedByServer(15_000);
    assert.equal(await node.exited(), 0, node.output());
    await t.test('a write acknowledged before SHUTDOWN NOSAVE survives', async () => {
      const restarted = await startNode({ dir: node.dir });
      try {
        const check = await RespClient.connect(restarted.port);
        assert.equal(await check.call('GET', 'kept'), '$3\r\nyes\r\n');
        check.close();
      } finally {
        await restarted.stop();
      }
    });
  } finally {
    await node.stop();
    node.cleanup();
  }
});

/** Each thread's niceness, by thread id, from /proc (field 19 of stat, after the name). */
function threadNiceness(pid: number): Map<number, number> {
  const niceness = new Map<number, number>();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the name start at field 3 (state); niceness is field 19.
    niceness.set(Number(thread), Number(fields[19 - 3]));
  }
  return niceness;
}

test('the LMDB writer thread alone runs niced', { skip: !existsSync('/proc/thread-self') },
  async () => {
    const node = await startNode();
    try {
      const pid = node.process.pid;
      assert.ok(pid !== undefined);
      // Relative to the process's own niceness (the test runner may itself run niced).
      const base = threadNiceness(pid).get(pid) as number;
      const writer = Math.min(19, base + 10);
      const niceness = await waitFor('the writer thread to lower its priority', () => {
        const found = threadNiceness(pid);
        return [...found.values()].includes(writer) ? found : undefined;
      }, 5000, 20);
      assert.equal(niceness.get(pid), base, 'the event loop keeps the process priority');
      assert.equal([...niceness.values()].filter((value) => value === writer).length, 1);
      assert.equal([...niceness.values()].filter((value) => value !== base && value !== writer)
        .length, 0);
    } finally {
      await node.stop();
      node.cleanup();
    }
  });
