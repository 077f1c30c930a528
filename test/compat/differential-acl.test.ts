/**
 * Differential tests of ACL users against redis-server 7.0.15: the same users are created
 * on both servers with ACL SETUSER, then AUTH / HELLO AUTH, NOPERM for commands and keys,
 * ACL WHOAMI / LIST / GETUSER / USERS / CAT / DELUSER and their errors are compared byte
 * for byte. Each script removes the users it made, so ACL LIST sees only its own.
 *
 * Redis 7.0.15 prints a user's command rules as a best-fit summary whose single commands
 * come in hash-table order (random per process); RingKV keeps the rules as given (Redis
 * 7.2's form). ACL LIST comparisons therefore use rule sets both print the same way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cmd, cmdWith, DifferentialPair, masks, on, repliesOf, type Step }
  from '../helpers/differential.js';
import { redisServerAvailable } from '../helpers/processes.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const hello = { mask: masks.helloId };
const anyInteger = { mask: masks.anyInteger };

function setuser(name: string, ...rules: string[]): Step {
  return cmd('ACL', 'SETUSER', name, ...rules);
}

/** Bulk strings of a flat RESP array reply (ACL CAT). */
function bulkItems(reply: string): string[] {
  const lines = reply.split('\r\n');
  assert.match(lines[0] as string, /^\*\d+$/, reply.slice(0, 40));
  const items: string[] = [];
  for (let index = 2; index < lines.length; index += 2) items.push(lines[index] as string);
  return items.slice(0, Number((lines[0] as string).slice(1)));
}

describe('differential: ACL users', { skip }, () => {
  const pair = new DifferentialPair();
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('AUTH and HELLO AUTH as users: WRONGPASS, disabled, nopass, RESET', async () => {
    await pair.check([
      setuser('alice', 'on', '>pw', '~foo*', '+get', '+set', '+acl|whoami'),
      setuser('carol', 'off', '>pw', '~*', '+@all'),
      setuser('nopw', 'on', '~*', '+@all'),
      setuser('np', 'on', 'nopass', '~*', '+@all'),
      cmd('AUTH', 'pw'),
      cmd('AUTH', 'alice', 'wrong'),
      cmd('AUTH', 'nosuch', 'pw'),
      cmd('AUTH', 'carol', 'pw'),
      cmd('AUTH', 'nopw', ''),
      cmd('AUTH', 'nopw', 'x'),
      cmd('ACL', 'WHOAMI'),
      cmd('AUTH', 'alice', 'pw'),
      cmd('ACL', 'WHOAMI'),
      cmd('GET', 'foo1'),
      cmd('GET', 'bar'),
      cmd('PING'),
      cmd('AUTH', 'alice', 'wrong'),
      cmd('ACL', 'WHOAMI'),
      cmd('AUTH', 'np', 'whatever'),
      cmd('ACL', 'WHOAMI'),
      cmd('RESET'),
      cmd('ACL', 'WHOAMI'),
      cmdWith(hello, 'HELLO', '3', 'AUTH', 'alice', 'pw'),
      cmd('ACL', 'WHOAMI'),
      cmd('GET', 'bar'),
      cmd('HELLO', '2', 'AUTH', 'alice', 'wrong'),
      cmd('HELLO', '3', 'AUTH', 'carol', 'pw'),
      cmd('HELLO', '3', 'AUTH', 'alice', 'pw', 'SETNAME', 'bad name'),
      cmd('CLIENT', 'GETNAME'),
      cmd('RESET'),
      cmd('ACL', 'DELUSER', 'alice', 'carol', 'nopw', 'np'),
    ]);
  });

  test('NOPERM: key patterns with read/write access, commands and subcommands', async () => {
    await pair.check([
      setuser('k', 'on', '>pw', '%R~r*', '%W~w*', '~b*', '+@all', '-client|kill', '-config'),
      cmd('AUTH', 'k', 'pw'),
      ...[
        ['GET', 'r1'], ['GET', 'w1'], ['SET', 'w1', 'x'], ['SET', 'r1', 'x'],
        ['SET', 'w1', 'x', 'GET'], ['SET', 'b1', 'x', 'GET'], ['EXISTS', 'w1'],
        ['EXISTS', 'r1', 'w1', 'zz'], ['TYPE', 'w1'], ['MGET', 'r1', 'w1'], ['MGET', 'r1', 'b1'],
        ['COPY', 'r1', 'w2'], ['COPY', 'w1', 'r1'], ['RENAME', 'r1', 'w1'], ['TTL', 'w1'],
        ['GETDEL', 'r1'], ['GETEX', 'r1'], ['APPEND', 'r1', 'x'], ['INCR', 'b2'],
        ['MSET', 'b1', '1', 'b2', '2'], ['MSET', 'b1', '1', 'r1', '2'], ['MSET', 'w1', '1', 'x'],
        ['DEL', 'w1', 'b1', 'b2'], ['DEL', 'r1'], ['EXPIRE', 'w1', '10'], ['EXPIRE', 'r1', '10'],
        ['CLIENT', 'KILL', 'ID', '5'], ['CONFIG', 'GET', 'port'], ['CONFIG', 'HELP'],
        ['GET'], ['CLIENT', 'NOSUCH'], ['NOSUCH'], ['DBSIZE'], ['ECHO', 'x'],
      ].map((args) => cmd(...args)),
      cmdWith(anyInteger, 'CLIENT', 'ID'),
      cmd('RESET'),
      cmd('ACL', 'DELUSER', 'k'),
    ]);
  });

  test('NOPERM: first arguments, categories, and commands every user may run', async () => {
    await pair.check([
      setuser('s', 'on', 'nopass', 'allkeys', '-@all', '+select|0', '+ping'),
      setuser('c', 'on', 'nopass', 'allkeys', '-@all', '+@connection'),
      setuser('d', 'on', 'nopass', 'allkeys', '+@all', '-@dangerous'),
      setuser('n', 'on', 'nopass', 'allkeys', '-@all'),
      cmd('AUTH', 's', 'x'),
      cmd('SELECT', '0'), cmd('SELECT', '1'), cmd('select', '0'), cmd('PING'), cmd('GET', 'k'),
      cmd('CLIENT', 'ID'),
      cmd('AUTH', 'c', 'x'),
      cmdWith(anyInteger, 'CLIENT', 'ID'), cmd('CLIENT', 'GETNAME'), cmd('ECHO', 'x'),
      cmd('CONFIG', 'GET', 'port'), cmd('GET', 'k'), cmd('SELECT', '2'), cmd('SELECT', '0'),
      cmd('AUTH', 'd', 'x'),
      cmd('FLUSHALL'), cmd('KEYS', '*'), cmd('INFO'), cmd('CONFIG', 'SET', 'hz', '10'),
      cmd('DBSIZE'), cmd('SET', 'k', 'v'), cmd('GET', 'k'), cmd('CLIENT', 'SETNAME', 'n'),
      cmd('AUTH', 'n', 'x'),
      cmd('PING'), cmd('ACL', 'WHOAMI'), cmd('AUTH', 'n', 'x'), cmdWith(hello, 'HELLO', '3'),
      cmd('RESET'),
      cmd('ACL', 'DELUSER', 's', 'c', 'd', 'n'),
    ]);
  });

  test('ACL LIST, GETUSER and USERS (RESP2 and RESP3)', async () => {
    const hex = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
    const users: Array<[string, string[]]> = [
      ['l1', ['on', '>pw', '~foo*', '+get']],
      ['l2', ['on', 'nopass', '%R~r*', '%W~w*', '~b*', '&ch*', '-@all', '+@read', '-get']],
      ['l3', ['on', '+@all', '-@dangerous']],
      ['l4', ['on', '~x', 'reset']],
      ['l5', ['>a', '>b', '<a', `#${hex}`, '>b']],
      ['l6', ['~a', '%R~b', '%W~a', '~a', '%RW~c', '%r~*']],
      ['l7', ['&a', 'resetchannels', '&b', '&c']],
      ['l8', ['on', 'nopass', 'allkeys', 'allchannels', 'allcommands']],
      ['l9', ['+client', '-client|kill']],
      ['l10', ['+select|0', '+select|1', '+select|0']],
      ['l11', ['-@all', '+@read', '+client|id']],
      ['l12', ['+@all', '-get', 'skip-sanitize-payload']],
      ['l13', ['nopass', 'sanitize-payload', '+@write', '~*', '&*']],
      ['l14', ['~', '&', '', 'clearselectors']],
    ];
    const names = users.map(([name]) => name);
    await pair.check([
      ...users.map(([name, rules]) => setuser(name, ...rules)),
      cmd('ACL', 'LIST'),
      cmd('ACL', 'USERS'),
      ...names.map((name) => cmd('ACL', 'GETUSER', name)),
      cmd('ACL', 'GETUSER', 'default'),
      cmd('ACL', 'GETUSER', 'nosuch'),
      cmdWith(hello, 'HELLO', '3'),
      ...['l1', 'l2', 'l6', 'l8', 'default', 'nosuch'].map((name) => cmd('ACL', 'GETUSER', name)),
      cmd('ACL', 'LIST'),
      cmd('ACL', 'USERS'),
      cmd('ACL', 'DELUSER', ...names),
      cmd('ACL', 'LIST'),
    ]);
  });

  test('ACL SETUSER, DELUSER, GETUSER, WHOAMI and CAT errors', async () => {
    const badRules = ['bogus', '+nosuch', '+@nosuch', '-@nosuch', '+client|nosuch', '-select|0',
      '+get|a|b', '+client|id|x', '+config|get|x', '+get|', '+|', '+', '-', '+@all|x', '#abc',
      `#${'A'.repeat(64)}`, `!${'0'.repeat(64)}`, '<nosuch', '%~x', '%X~a', '%RWR~a', '~a b',
      '&a b', 'ON OFF'];
    await pair.check([
      ...badRules.map((rule) => setuser('e', 'on', rule)),
      cmd('ACL', 'GETUSER', 'e'),
      setuser('e', '~*', '~a'),
      setuser('e', 'allkeys', '%R~a'),
      setuser('e', '&*', '&a'),
      setuser('e', 'on', '>pw', 'bogus'),
      cmd('ACL', 'GETUSER', 'e'),
      setuser('a b'),
      cmd('ACL', 'SETUSER'),
      setuser('e', 'on', '>pw'),
      setuser('e', 'off', '+nosuch'),
      cmd('ACL', 'LIST'),
      cmd('ACL', 'DELUSER', 'e', 'default'),
      cmd('ACL', 'USERS'),
      cmd('ACL', 'DELUSER', 'nosuch', 'e', 'e'),
      cmd('ACL', 'DELUSER'),
      cmd('ACL', 'GETUSER'),
      cmd('ACL', 'WHOAMI', 'x'),
      cmd('ACL', 'USERS', 'x'),
      cmd('ACL', 'LIST', 'x'),
      cmd('ACL', 'HELP', 'x'),
      cmd('ACL', 'NOSUCH'),
      cmd('ACL'),
      cmd('ACL', 'CAT'),
      cmd('ACL', 'CAT', 'nosuch'),
      cmd('ACL', 'CAT', 'a', 'b'),
      cmd('ACL', 'cat', 'a', 'b'),
    ]);
  });

  test('ACL CAT <category> names the commands both servers have in it', async () => {
    const listOf = async (side: 'redis' | 'ringkv'): Promise<string[]> =>
      bulkItems(repliesOf(await pair.run(side, [cmd('COMMAND', 'LIST')]))[0] as string);
    const theirs = new Set(await listOf('redis'));
    // Commands both implement (RingKV's own and Redis 7.2's are left out).
    const shared = new Set((await listOf('ringkv')).filter((name) => theirs.has(name)));
    for (const category of ['read', 'write', 'string', 'keyspace', 'connection', 'admin',
      'dangerous', 'slow', 'fast', 'list', 'READ']) {
      const step = cmd('ACL', 'CAT', category);
      const redis = bulkItems(repliesOf(await pair.run('redis', [step]))[0] as string);
      const ringkv = bulkItems(repliesOf(await pair.run('ringkv', [step]))[0] as string);
      assert.deepEqual(ringkv.filter((name) => shared.has(name)).sort(),
        redis.filter((name) => shared.has(name)).sort(),
        `ACL CAT ${category}`);
    }
  });

  test('ACL DELUSER closes the connections of the removed users, its own after the reply',
    async () => {
      await pair.check([
        setuser('d1', 'on', '>pw', '~*', '+@all'),
        on(1, cmd('AUTH', 'd1', 'pw')),
        on(2, cmd('AUTH', 'd1', 'pw')),
        on(3, cmd('PING')),
        cmd('ACL', 'DELUSER', 'd1'),
        setuser('d2', 'on', '>pw', '~*', '+@all'),
        on(4, cmd('AUTH', 'd2', 'pw')),
        on(4, cmd('ACL', 'DELUSER', 'd2')),
      ]);
    });

  test('CLIENT KILL USER with real users', async () => {
    await pair.check([
      setuser('ck', 'on', 'nopass', '~*', '+@all'),
      on(1, cmd('AUTH', 'ck', 'x')),
      on(2, cmd('AUTH', 'ck', 'x')),
      cmd('CLIENT', 'KILL', 'USER', 'nosuch'),
      cmd('CLIENT', 'KILL', 'USER', 'ck'),
      cmd('CLIENT', 'KILL', 'USER', 'ck'),
      cmd('ACL', 'DELUSER', 'ck'),
      cmd('CLIENT', 'KILL', 'USER', 'ck'),
    ]);
  });
});

describe('differential: ACL users with requirepass', { skip }, () => {
  const pair = new DifferentialPair([], 'secret');
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('NOAUTH comes before NOPERM; RESET forgets the user', async () => {
    await pair.check([
      cmd('AUTH', 'secret'),
      setuser('p1', 'on', '>p', '-@all', '+ping'),
      on(1, cmd('GET', 'k')),
      on(1, cmd('ACL', 'WHOAMI')),
      on(1, cmd('AUTH', 'p')),
      on(1, cmd('AUTH', 'p1', 'p')),
      on(1, cmd('GET', 'k')),
      on(1, cmd('PING')),
      on(1, cmd('ACL', 'WHOAMI')),
      on(1, cmd('RESET')),
      on(1, cmd('PING')),
      on(1, cmdWith(hello, 'HELLO', '3', 'AUTH', 'p1', 'p')),
      on(1, cmd('GET', 'k')),
      on(1, cmd('AUTH', 'default', 'secret')),
      on(1, cmd('GET', 'k')),
      on(1, cmd('RESET')),
      cmd('ACL', 'DELUSER', 'p1'),
    ]);
  });
});
