/**
 * Differential tests of the generic key commands (DEL ... FLUSHALL, SELECT): every script
 * runs against redis-server 7.0.15 and a RingKV node and the raw replies must be identical.
 * SCAN and KEYS return keys in an unspecified order, so their key sets are compared instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cmd, cmdWith, DifferentialPair, masks } from '../helpers/differential.js';
import { redisServerAvailable } from '../helpers/processes.js';
import { RespClient, splitReplies } from '../helpers/resp-client.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const pair = new DifferentialPair();

const FUTURE_SECONDS = '4102444800'; // 2100-01-01
const FUTURE_MS = '4102444800000';
const LATER_SECONDS = '4133980800'; // 2101-01-01
const LATER_MS = '4133980800000';

/** The bulk strings of a flat RESP array reply, as latin1 strings. */
function bulkItems(reply: string): string[] {
  const bytes = Buffer.from(reply, 'latin1');
  const header = bytes.indexOf('\r\n');
  const { replies } = splitReplies(bytes.subarray(header + 2));
  return replies.map((item) => {
    const text = item.toString('latin1');
    return text.slice(text.indexOf('\r\n') + 2, -2);
  });
}

/** Iterates SCAN to cursor 0 and returns the sorted keys, or the first error reply. */
async function scanAll(client: RespClient, options: string[]): Promise<string[] | string> {
  const keys: string[] = [];
  let cursor = '0';
  for (let round = 0; round < 10_000; round++) {
    const reply = await client.call('SCAN', cursor, ...options);
    if (reply.startsWith('-')) return reply;
    const bytes = Buffer.from(reply, 'latin1');
    const { replies } = splitReplies(bytes.subarray(bytes.indexOf('\r\n') + 2));
    const [cursorReply, page] = replies as [Buffer, Buffer];
    cursor = bulkItems(`*1\r\n${cursorReply.toString('latin1')}`)[0] as string;
    keys.push(...bulkItems(page.toString('latin1')));
    if (cursor === '0') return [...new Set(keys)].sort();
  }
  throw new Error('SCAN did not finish');
}

describe('differential: keys', { skip }, () => {
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('DEL, UNLINK, EXISTS, TOUCH with repeated and missing keys', async () => {
    await pair.check([
      cmd('MSET', 'a', '1', 'b', '2', 'c', '3'),
      cmd('EXISTS', 'a'),
      cmd('EXISTS', 'a', 'a', 'a'),
      cmd('EXISTS', 'a', 'b', 'missing', 'c'),
      cmd('TOUCH', 'a', 'a', 'missing'),
      cmd('TOUCH', 'missing'),
      cmd('DEL', 'a', 'a', 'missing'),
      cmd('DEL', 'a'),
      cmd('UNLINK', 'b', 'b', 'c', 'x'),
      cmd('UNLINK', 'b'),
      cmd('EXISTS', 'a', 'b', 'c'),
      cmd('DEL', 'nothing', 'here'),
    ]);
  });

  test('TYPE', async () => {
    await pair.check([
      cmd('TYPE', 'missing'),
      cmd('SET', 'k', 'v'),
      cmd('TYPE', 'k'),
      cmd('SET', 'n', '12'),
      cmd('TYPE', 'n'),
    ]);
  });

  test('EXPIRE family with NX XX GT LT', async () => {
    await pair.check([
      cmd('EXPIRE', 'missing', '100'),
      cmd('EXPIRE', 'missing', '100', 'NX'),
      cmd('SET', 'k', 'v'),
      cmd('EXPIRE', 'k', '100', 'XX'),
      cmd('EXPIRE', 'k', '100', 'GT'),
      cmd('TTL', 'k'),
      cmd('EXPIRE', 'k', '100', 'LT'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'k'),
      cmd('EXPIRE', 'k', '200', 'NX'),
      cmd('EXPIRE', 'k', '200', 'XX'),
      cmdWith({ mask: masks.integerIn(199, 200) }, 'TTL', 'k'),
      cmd('EXPIRE', 'k', '100', 'GT'),
      cmd('EXPIRE', 'k', '300', 'GT'),
      cmd('EXPIRE', 'k', '400', 'LT'),
      cmd('EXPIRE', 'k', '50', 'LT'),
      cmdWith({ mask: masks.integerIn(49, 50) }, 'TTL', 'k'),
      cmd('EXPIRE', 'k', '50', 'xx', 'gt'),
      cmd('EXPIRE', 'k', '60', 'XX', 'GT'),
      cmd('EXPIRE', 'k', '60', 'NX', 'XX'),
      cmd('EXPIRE', 'k', '60', 'NX', 'GT'),
      cmd('EXPIRE', 'k', '60', 'NX', 'LT'),
      cmd('EXPIRE', 'k', '60', 'GT', 'LT'),
      cmd('EXPIRE', 'k', '60', 'LT', 'GT'),
      cmd('EXPIRE', 'k', '60', 'NX', 'NX'),
      cmd('EXPIRE', 'k', '60', 'BOGUS'),
      cmd('EXPIRE', 'k', '60', 'NX', 'BOGUS'),
      cmd('EXPIRE', 'k', '60', 'BOGUS', 'NX', 'XX'),
      cmd('EXPIRE', 'k', 'abc', 'BOGUS'),
      cmd('EXPIRE', 'k', 'abc', 'NX', 'XX'),
      cmd('EXPIRE', 'k', 'abc'),
      cmd('EXPIRE', 'k', '1.5'),
      cmd('EXPIRE', 'k', ''),
      cmd('EXPIRE', 'k', '9223372036854775807'),
      cmd('EXPIRE', 'k', '9223372036854775'),
      cmd('EXPIRE', 'k', '9223372036854774'),
      cmd('EXPIRE', 'k', '-9223372036854775808'),
      cmd('EXPIRE', 'k', '-9223372036854775'),
      cmd('PEXPIRE', 'k', '9223372036854775807'),
      cmd('PEXPIRE', 'k', '9223372036854775806', 'GT'),
      cmd('EXPIREAT', 'k', '9223372036854775807'),
      cmd('PEXPIREAT', 'k', '9223372036854775807', 'NX'),
      cmd('EXISTS', 'k'),
      cmd('PERSIST', 'k'),
      cmd('PERSIST', 'k'),
      cmd('PERSIST', 'missing'),
      cmd('EXPIRE', 'k', '100', 'LT'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'k'),
      cmd('PERSIST', 'k'),
      cmd('EXPIRE', 'k', '100', 'GT'),
      cmd('TTL', 'k'),
    ]);
  });

  test('EXPIRE with zero, negative and past times deletes the key', async () => {
    await pair.check([
      cmd('SET', 'a', 'v'),
      cmd('EXPIRE', 'a', '0'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'a', 'v'),
      cmd('EXPIRE', 'a', '-5'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'a', 'v'),
      cmd('PEXPIRE', 'a', '-1'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'a', 'v'),
      cmd('EXPIREAT', 'a', '1'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'a', 'v'),
      cmd('PEXPIREAT', 'a', '0'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'a', 'v'),
      cmd('EXPIRE', 'a', '0', 'NX'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'a', 'v'),
      cmd('EXPIRE', 'a', '0', 'XX'),
      cmd('EXISTS', 'a'),
      cmd('EXPIRE', 'a', '0', 'GT'),
      cmd('EXISTS', 'a'),
      cmd('EXPIRE', 'a', '-1', 'LT'),
      cmd('EXISTS', 'a'),
      cmd('SET', 'b', 'v', 'EX', '100'),
      cmd('EXPIRE', 'b', '-1', 'LT'),
      cmd('EXISTS', 'b'),
      cmd('SET', 'b', 'v', 'EX', '100'),
      cmd('EXPIRE', 'b', '-1', 'GT'),
      cmd('EXISTS', 'b'),
    ]);
  });

  test('EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME, TTL, PTTL', async () => {
    await pair.check([
      cmd('TTL', 'missing'),
      cmd('PTTL', 'missing'),
      cmd('EXPIRETIME', 'missing'),
      cmd('PEXPIRETIME', 'missing'),
      cmd('SET', 'k', 'v'),
      cmd('TTL', 'k'),
      cmd('PTTL', 'k'),
      cmd('EXPIRETIME', 'k'),
      cmd('PEXPIRETIME', 'k'),
      cmd('EXPIREAT', 'k', FUTURE_SECONDS),
      cmd('EXPIRETIME', 'k'),
      cmd('PEXPIRETIME', 'k'),
      cmd('PEXPIREAT', 'k', FUTURE_MS),
      cmd('EXPIRETIME', 'k'),
      cmd('PEXPIREAT', 'k', '4102444800999'),
      cmd('EXPIRETIME', 'k'),
      cmd('PEXPIRETIME', 'k'),
      cmd('PEXPIREAT', 'k', '4102444800500'),
      cmd('EXPIRETIME', 'k'),
      cmd('EXPIREAT', 'k', LATER_SECONDS, 'LT'),
      cmd('EXPIREAT', 'k', LATER_SECONDS, 'GT'),
      cmd('PEXPIRETIME', 'k'),
      cmd('PEXPIREAT', 'k', LATER_MS, 'GT'),
      cmd('PEXPIREAT', 'k', FUTURE_MS, 'LT'),
      cmd('PEXPIRETIME', 'k'),
      cmd('EXPIREAT', 'k', FUTURE_SECONDS, 'NX'),
      cmd('EXPIREAT', 'k', 'soon'),
      cmd('PEXPIREAT', 'k', '1e3'),
      cmd('PEXPIRE', 'k', '100500'),
      cmdWith({ mask: masks.integerIn(100, 101) }, 'TTL', 'k'),
      cmd('PEXPIRE', 'k', '100499'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'k'),
      cmd('PEXPIRE', 'k', '1500'),
      cmdWith({ mask: masks.integerIn(1, 2) }, 'TTL', 'k'),
    ]);
  });

  test('RENAME and RENAMENX', async () => {
    await pair.check([
      cmd('RENAME', 'missing', 'x'),
      cmd('RENAMENX', 'missing', 'x'),
      cmd('RENAME', 'missing', 'missing'),
      cmd('RENAMENX', 'missing', 'missing'),
      cmd('SET', 'a', '1', 'EX', '100'),
      cmd('RENAME', 'a', 'a'),
      cmd('RENAMENX', 'a', 'a'),
      cmd('RENAME', 'a', 'b'),
      cmd('EXISTS', 'a'),
      cmd('GET', 'b'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'b'),
      cmd('SET', 'c', '3'),
      cmd('RENAMENX', 'b', 'c'),
      cmd('RENAMENX', 'b', 'd'),
      cmd('GET', 'd'),
      cmd('RENAME', 'd', 'c'),
      cmd('GET', 'c'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'c'),
      cmd('SET', 'p', 'no ttl'),
      cmd('RENAME', 'p', 'c'),
      cmd('TTL', 'c'),
      cmd('DBSIZE'),
    ]);
  });

  test('COPY with DB and REPLACE, and its errors', async () => {
    await pair.check([
      cmd('COPY', 'missing', 'x'),
      cmd('SET', 'a', '1', 'EX', '100'),
      cmd('COPY', 'a', 'a'),
      cmd('COPY', 'a', 'a', 'DB', '0'),
      cmd('COPY', 'a', 'a', 'REPLACE'),
      cmd('COPY', 'a', 'b'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'b'),
      cmd('COPY', 'a', 'b'),
      cmd('SET', 'a', '2'),
      cmd('COPY', 'a', 'b', 'REPLACE'),
      cmd('GET', 'b'),
      cmd('TTL', 'b'),
      cmd('COPY', 'a', 'a', 'DB', '1'),
      cmd('COPY', 'a', 'a', 'db', '1'),
      cmd('COPY', 'a', 'a', 'DB', '1', 'REPLACE'),
      cmd('COPY', 'a', 'z', 'DB', '15'),
      cmd('COPY', 'a', 'z', 'DB', '16'),
      cmd('COPY', 'a', 'z', 'DB', '-1'),
      cmd('COPY', 'a', 'z', 'DB', 'abc'),
      cmd('COPY', 'a', 'z', 'DB', '2147483648'),
      cmd('COPY', 'a', 'z', 'DB', '9223372036854775808'),
      cmd('COPY', 'a', 'z', 'DB'),
      cmd('COPY', 'a', 'z', 'REPLACE', 'REPLACE'),
      cmd('COPY', 'a', 'z', 'DB', '1', 'DB', '2'),
      cmd('COPY', 'a', 'z', 'BOGUS'),
      cmd('COPY', 'a', 'a', 'BOGUS'),
      cmd('COPY', 'missing', 'z', 'DB', '99'),
      cmd('SELECT', '1'),
      cmd('GET', 'a'),
      cmd('GET', 'z'),
      cmd('SELECT', '15'),
      cmd('GET', 'z'),
      cmd('COPY', 'z', 'y', 'DB', '0'),
      cmd('SELECT', '0'),
      cmd('GET', 'y'),
      cmd('DBSIZE'),
    ]);
  });

  test('SELECT and per-database keys', async () => {
    await pair.check([
      cmd('SET', 'k', 'db0'),
      cmd('SELECT', '1'),
      cmd('GET', 'k'),
      cmd('SET', 'k', 'db1'),
      cmd('DBSIZE'),
      cmd('SELECT', '15'),
      cmd('SELECT', '16'),
      cmd('SELECT', '-1'),
      cmd('SELECT', 'abc'),
      cmd('SELECT', '1.0'),
      cmd('SELECT', ''),
      cmd('SELECT', ' 1'),
      cmd('SELECT', '01'),
      cmd('SELECT', '+1'),
      cmd('SELECT', '2147483648'),
      cmd('SELECT', '-2147483649'),
      cmd('SELECT', '9223372036854775808'),
      cmd('SELECT', '0'),
      cmd('GET', 'k'),
      cmd('FLUSHDB'),
      cmd('DBSIZE'),
      cmd('SELECT', '1'),
      cmd('GET', 'k'),
    ]);
  });

  test('RANDOMKEY, DBSIZE, FLUSHDB and FLUSHALL options', async () => {
    await pair.check([
      cmd('RANDOMKEY'),
      cmd('DBSIZE'),
      cmd('SET', 'only', '1'),
      cmd('RANDOMKEY'),
      cmd('DBSIZE'),
      cmd('FLUSHDB', 'ASYNC'),
      cmd('DBSIZE'),
      cmd('SET', 'x', '1'),
      cmd('FLUSHDB', 'sync'),
      cmd('FLUSHDB', 'BOGUS'),
      cmd('FLUSHDB', 'SYNC', 'ASYNC'),
      cmd('FLUSHALL', 'ASYNC'),
      cmd('FLUSHALL', 'SYNC'),
      cmd('FLUSHALL', 'lazy'),
      cmd('FLUSHALL', 'ASYNC', 'ASYNC'),
      cmd('FLUSHALL', ''),
      cmd('SET', 'y', '1'),
      cmd('SELECT', '3'),
      cmd('SET', 'z', '1'),
      cmd('FLUSHALL'),
      cmd('DBSIZE'),
      cmd('SELECT', '0'),
      cmd('DBSIZE'),
      cmd('RANDOMKEY'),
    ]);
  });

  test('KEYS patterns', async () => {
    const keys = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h[a]llo', 'h*llo', 'a\\b',
      'foo:1', 'foo:2', 'foo:10', 'bar', '', 'UPPER', 'ümlaut'];
    const patterns = ['*', 'h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h[b-a]llo',
      'foo:*', 'foo:?', '*o*', 'h\\[a\\]llo', 'h\\*llo', 'a\\\\b', '', 'nomatch*', 'upper',
      'UPPER', '[', 'h[', 'h[a', '*[', '\\', 'h[\\]llo', '[a-]*', '[]*', '*?', '???', '??',
      '*:*0', 'ü*', '**', '*?*', '[h]*', 'H*', '\\h*'];
    const setup = [cmd('MSET', ...keys.flatMap((key) => [key, 'v']))];
    await pair.check([...setup, ...patterns.map((pattern) => cmdWith(
      { mask: sortedArray }, 'KEYS', pattern))]);
  });

  test('SCAN errors', async () => {
    await pair.check([
      cmd('SCAN', 'abc'),
      cmd('SCAN', '-1'),
      cmd('SCAN', '1.5'),
      cmd('SCAN', ''),
      cmd('SCAN', ' 0'),
      cmd('SCAN', '0\0x'),
      cmd('SCAN', '\0'),
      cmd('SCAN', '+0'),
      cmd('SCAN', '-0'),
      cmd('SCAN', '0x0'),
      cmd('SCAN', '18446744073709551616'),
      cmd('SCAN', '0', 'COUNT', '0'),
      cmd('SCAN', '0', 'COUNT', '-1'),
      cmd('SCAN', '0', 'COUNT', 'abc'),
      cmd('SCAN', '0', 'COUNT'),
      cmd('SCAN', '0', 'MATCH'),
      cmd('SCAN', '0', 'TYPE'),
      cmd('SCAN', '0', 'BOGUS', 'x'),
      cmd('SCAN', '0', 'COUNT', '10', 'BOGUS'),
      cmd('SCAN', '0', 'COUNT', '0', 'BOGUS'),
      cmd('SCAN', 'abc', 'COUNT', '0'),
      cmd('SCAN', '0', 'MATCH', '*', 'COUNT', '0'),
      cmd('SCAN', '0'),
      cmd('SCAN', '0', 'COUNT', '10'),
      cmd('SCAN', '0', 'MATCH', 'x*'),
      cmd('SCAN', '0', 'TYPE', 'string'),
      cmd('SCAN', '0', 'TYPE', 'list'),
      cmd('SCAN', '0', 'TYPE', 'nosuchtype'),
      cmd('SCAN', '0', 'COUNT', '9223372036854775807'),
      cmd('SCAN', '18446744073709551615'),
      cmd('SCAN', '-18446744073709551615'),
    ]);
  });

  test('SCAN with MATCH, COUNT and TYPE returns the same key sets', async () => {
    const keys = Array.from({ length: 150 }, (_, index) => `key:${index}`);
    keys.push('other', 'key:a', 'KEY:1');
    const queries: string[][] = [[], ['COUNT', '1'], ['COUNT', '7'], ['COUNT', '1000'],
      ['MATCH', 'key:1*'], ['MATCH', 'key:1*', 'COUNT', '3'], ['MATCH', '*'],
      ['MATCH', 'nomatch'], ['TYPE', 'string'], ['TYPE', 'STRING'], ['TYPE', 'hash'],
      ['MATCH', 'key:?', 'TYPE', 'string', 'COUNT', '5'], ['MATCH', 'x', 'MATCH', 'other'],
      ['COUNT', '2', 'COUNT', '50']];
    const clients = await Promise.all([RespClient.connect(pair.redisPort),
      RespClient.connect(pair.nodePort)]);
    try {
      await pair.check([cmd('MSET', ...keys.flatMap((key) => [key, 'v']))]);
      for (const query of queries) {
        const [redis, ours] = await Promise.all(clients.map((client) => scanAll(client, query)));
        assert.deepEqual(ours, redis, `SCAN ... ${query.join(' ')}`);
      }
    } finally {
      for (const client of clients) client.close();
    }
  });

  test('a key deleted right after it was set stays deleted', {
    // KNOWN BUG (src/storage: LocalStore.replace / the LMDB engine; present at HEAD too):
    // "SET a v", "DEL a" (:1), "EXISTS a" answers ":1\r\n" about once in 100 rounds (also
    // with PEXPIREAT a 0 instead of DEL); Redis always ":0\r\n". Other scripts here that
    // delete keys can fail intermittently because of it.
  }, async () => {
    const round = [cmd('SET', 'a', 'v'), cmd('DEL', 'a'), cmd('EXISTS', 'a')];
    await pair.check(Array.from({ length: 150 }, () => round).flat());
  });

  test('RANDOMKEY on a one-key database always finds the key', {
    // KNOWN BUG (src/coordinator/coordinator.ts, randomKey): the walk starts at a random slot
    // and scans 4096-slot windows without wrapping past slot 16383, so slots below the start
    // (modulo 4096) are never visited. "SET f 1" (slot 3168) then RANDOMKEY: Redis always
    // "$1\r\nf\r\n"; RingKV sometimes "$-1\r\n".
  }, async () => {
    await pair.check([cmd('SET', 'f', '1'),
      ...Array.from({ length: 60 }, () => cmd('RANDOMKEY'))]);
  });

  test('SCAN of a small database finishes in one call', {
    // KNOWN BUG (src/coordinator/coordinator.ts, SCAN_SLOTS_PER_CALL): RingKV visits 4096 of
    // 16384 slots per call, so SCAN 0 on a one-key database answers cursor "4096" where
    // Redis answers "0" (both iterations are complete and correct once followed to 0).
  }, async () => {
    await pair.check([
      cmd('SET', 'only', '1'),
      cmd('SCAN', '0'),
      cmd('SCAN', '0', 'COUNT', '1000'),
    ]);
  });

  test('wrong arity of key commands', async () => {
    const calls: string[][] = [
      ['DEL'], ['UNLINK'], ['EXISTS'], ['TOUCH'], ['TYPE'], ['TYPE', 'a', 'b'], ['EXPIRE', 'k'],
      ['PEXPIRE'], ['EXPIREAT', 'k'], ['PEXPIREAT', 'k'], ['TTL'], ['PTTL', 'a', 'b'],
      ['EXPIRETIME'], ['PEXPIRETIME', 'a', 'b'], ['PERSIST'], ['RENAME', 'a'],
      ['RENAMENX', 'a', 'b', 'c'], ['COPY', 'a'], ['KEYS'], ['KEYS', 'a', 'b'], ['SCAN'],
      ['RANDOMKEY', 'x'], ['DBSIZE', 'x'], ['SELECT'], ['SELECT', '1', '2'],
    ];
    await pair.check(calls.map((args) => cmd(...args)));
  });
});

/** KEYS replies in a canonical order, so servers with different key orders compare equal. */
function sortedArray(reply: string): string {
  if (!reply.startsWith('*')) return reply;
  const items = bulkItems(reply).sort();
  return `*${items.length}\r\n${items.map((item) => `$${item.length}\r\n${item}\r\n`).join('')}`;
}
