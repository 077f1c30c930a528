/**
 * Differential tests of the connection commands (PING, ECHO, HELLO, AUTH, CLIENT, RESET,
 * QUIT), unknown commands, wrong arity, and RESP3 variants of replies: each script runs
 * against redis-server 7.0.15 and a RingKV node and the raw replies must be identical.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  cmd,
  cmdWith,
  DifferentialPair,
  masks,
  on,
  raw,
  repliesOf,
} from '../helpers/differential.js';
import { redisServerAvailable } from '../helpers/processes.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const pair = new DifferentialPair();

/** CLIENT INFO / CLIENT LIST: keep the reply type and the first field name only. */
function clientLine(reply: string): string {
  return reply.replace(/^([$=])\d+\r\n(txt:)?id=\d+ [^]*\r\n$/, '$1<n>\r\n$2id=<...>\r\n');
}

describe('differential: connection', { skip }, () => {
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('PING and ECHO', async () => {
    await pair.check([
      cmd('PING'),
      cmd('ping', 'hello'),
      cmd('PING', ''),
      cmd('PING', 'a', 'b'),
      cmd('ECHO', 'hi'),
      cmd('ECHO', ''),
      cmd('ECHO', Buffer.from([0, 255, 13, 10])),
      cmd('ECHO'),
      cmd('ECHO', 'a', 'b'),
    ]);
  });

  test('HELLO versions and options', async () => {
    const hello = { mask: masks.helloId };
    await pair.check([
      cmdWith(hello, 'HELLO'),
      cmdWith(hello, 'HELLO', '2'),
      cmd('HELLO', '4'),
      cmd('HELLO', '1'),
      cmd('HELLO', '0'),
      cmd('HELLO', '-1'),
      cmd('HELLO', 'abc'),
      cmd('HELLO', '3.0'),
      cmd('HELLO', ''),
      cmd('HELLO', '9223372036854775808'),
      cmd('HELLO', '2', 'BOGUS'),
      cmd('HELLO', '2', 'AUTH'),
      cmd('HELLO', '2', 'AUTH', 'default'),
      cmd('HELLO', '2', 'SETNAME'),
      cmd('HELLO', '2', 'SETNAME', 'bad name'),
      cmd('HELLO', '2', 'SETNAME', 'bad\nname'),
      cmd('HELLO', '2', 'AUTH', 'nosuchuser', 'pw'),
      cmd('HELLO', '2', 'AUTH', 'nosuchuser', 'pw', 'SETNAME', 'bad name'),
      cmd('HELLO', '2', 'SETNAME', 'bad name', 'AUTH', 'nosuchuser', 'pw'),
      cmd('HELLO', '2', 'SETNAME', 'ok', 'BOGUS'),
      cmd('CLIENT', 'GETNAME'),
      cmdWith(hello, 'HELLO', '2', 'AUTH', 'default', 'anything'),
      cmdWith(hello, 'HELLO', '2', 'SETNAME', 'first', 'SETNAME', 'second'),
      cmd('CLIENT', 'GETNAME'),
      cmdWith(hello, 'HELLO', '2', 'SETNAME', ''),
      cmd('CLIENT', 'GETNAME'),
      cmdWith(hello, 'hello', '3', 'setname', 'three'),
      cmd('CLIENT', 'GETNAME'),
      cmd('GET', 'missing'),
      cmd('HELLO', '4'),
      cmd('GET', 'missing'),
      cmdWith(hello, 'HELLO'),
      cmd('GET', 'missing'),
      cmdWith(hello, 'HELLO', '2'),
      cmd('GET', 'missing'),
    ]);
  });

  test('AUTH without a configured password', async () => {
    await pair.check([
      cmd('AUTH', 'secret'),
      cmd('AUTH', ''),
      cmd('AUTH', 'default', 'anything'),
      cmd('AUTH', 'nosuchuser', 'pw'),
      cmd('AUTH', 'a', 'b', 'c'),
      cmd('AUTH'),
      cmd('PING'),
    ]);
  });

  test('CLIENT SETNAME and GETNAME', async () => {
    await pair.check([
      cmd('CLIENT', 'GETNAME'),
      cmd('CLIENT', 'SETNAME', 'conn-1'),
      cmd('CLIENT', 'GETNAME'),
      cmd('CLIENT', 'SETNAME', 'has space'),
      cmd('CLIENT', 'SETNAME', 'tab\tname'),
      cmd('CLIENT', 'SETNAME', Buffer.from('caf\u00e9')),
      cmd('CLIENT', 'SETNAME', Buffer.from([0x7f])),
      cmd('CLIENT', 'SETNAME', '!~'),
      cmd('CLIENT', 'GETNAME'),
      cmd('CLIENT', 'SETNAME', ''),
      cmd('CLIENT', 'GETNAME'),
      cmd('CLIENT', 'SETNAME'),
      cmd('CLIENT', 'SETNAME', 'a', 'b'),
      cmd('CLIENT', 'GETNAME', 'x'),
      cmd('client', 'setname', 'lower'),
      cmd('CLIENT', 'getname'),
    ]);
  });

  test('CLIENT REPLY ON, OFF and SKIP', async () => {
    await pair.check([
      cmdWith({ replies: 0 }, 'CLIENT', 'REPLY', 'OFF'),
      cmdWith({ replies: 0 }, 'SET', 'a', '1'),
      cmdWith({ replies: 0 }, 'GET', 'a'),
      cmdWith({ replies: 0 }, 'NOSUCHCOMMAND'),
      cmdWith({ replies: 0 }, 'GET'),
      cmdWith({ replies: 0 }, 'CLIENT', 'REPLY', 'SKIP'),
      cmd('CLIENT', 'REPLY', 'ON'),
      cmd('GET', 'a'),
      cmdWith({ replies: 0 }, 'CLIENT', 'REPLY', 'SKIP'),
      cmdWith({ replies: 0 }, 'GET', 'a'),
      cmd('ECHO', 'after skip'),
      cmdWith({ replies: 0 }, 'CLIENT', 'REPLY', 'SKIP'),
      cmdWith({ replies: 0 }, 'CLIENT', 'REPLY', 'SKIP'),
      cmd('ECHO', 'after two skips'),
      cmd('CLIENT', 'REPLY', 'BOGUS'),
      cmd('CLIENT', 'REPLY'),
      cmd('CLIENT', 'REPLY', 'on', 'off'),
      cmd('client', 'reply', 'on'),
    ]);
  });

  test('CLIENT REPLY ON right after SKIP', {
    // KNOWN BUG (src/server/connection.ts, Connection.replyWriter): the writer is chosen
    // before the command runs, so the +OK of CLIENT REPLY ON sent right after SKIP is
    // swallowed. Redis clears the skip flag and then replies: "+OK\r\n"; RingKV: nothing.
  }, async () => {
    await pair.check([
      cmdWith({ replies: 0 }, 'CLIENT', 'REPLY', 'SKIP'),
      cmd('CLIENT', 'REPLY', 'ON'),
      cmd('ECHO', 'x'),
    ]);
  });

  test('CLIENT NO-EVICT, KILL, LIST, INFO, ID and unknown subcommands', async () => {
    await pair.check([
      cmd('CLIENT', 'NO-EVICT', 'on'),
      cmd('CLIENT', 'NO-EVICT', 'OFF'),
      cmd('CLIENT', 'NO-EVICT', 'maybe'),
      cmd('CLIENT', 'NO-EVICT'),
      cmd('CLIENT', 'KILL'),
      cmd('CLIENT', 'KILL', '1.2.3.4:5'),
      cmd('CLIENT', 'KILL', 'ID', '99999'),
      cmd('CLIENT', 'KILL', 'ID', '0'),
      cmd('CLIENT', 'KILL', 'ID', '-1'),
      cmd('CLIENT', 'KILL', 'ID', 'abc'),
      cmd('CLIENT', 'KILL', 'ID', '1', 'TYPE'),
      cmd('CLIENT', 'KILL', 'TYPE', 'bogus'),
      cmd('CLIENT', 'KILL', 'TYPE', 'pubsub'),
      cmd('CLIENT', 'KILL', 'TYPE', 'master'),
      cmd('CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'),
      cmd('CLIENT', 'KILL', 'LADDR', '1.2.3.4:5'),
      cmd('CLIENT', 'KILL', 'USER', 'nosuchuser'),
      cmd('CLIENT', 'KILL', 'SKIPME', 'maybe'),
      cmd('CLIENT', 'KILL', 'SKIPME', 'yes', 'ID', '99999'),
      cmd('CLIENT', 'KILL', 'BOGUS', 'x'),
      cmd('CLIENT', 'LIST', 'TYPE', 'bogus'),
      cmd('CLIENT', 'LIST', 'TYPE', 'master'),
      cmd('CLIENT', 'LIST', 'TYPE', 'pubsub'),
      cmd('CLIENT', 'LIST', 'ID', 'abc'),
      cmd('CLIENT', 'LIST', 'ID', '0'),
      cmd('CLIENT', 'LIST', 'ID', '99999'),
      cmd('CLIENT', 'LIST', 'ID'),
      cmd('CLIENT', 'LIST', 'BOGUS'),
      cmd('CLIENT', 'LIST', 'TYPE', 'normal', 'extra'),
      cmdWith({ mask: clientLine }, 'CLIENT', 'INFO'),
      cmdWith({ mask: clientLine }, 'CLIENT', 'LIST'),
      cmdWith({ mask: clientLine }, 'CLIENT', 'LIST', 'TYPE', 'normal'),
      cmd('CLIENT', 'INFO', 'x'),
      cmdWith({ mask: masks.anyInteger }, 'CLIENT', 'ID'),
      cmd('CLIENT', 'ID', 'x'),
      cmd('CLIENT'),
      cmd('CLIENT', 'BOGUS'),
      cmd('CLIENT', 'bogus', 'x', 'y'),
      cmd('CLIENT', Buffer.from('a\r\nb')),
      cmd('CLIENT', 'x'.repeat(200)),
    ]);
  });

  test('CLIENT KILL of another connection by TYPE', async () => {
    // The other connection's id and port differ between the servers, so it is killed by
    // TYPE (SKIPME YES spares the killer); it then sees its connection closed.
    await pair.check([
      on(1, cmd('PING')),
      // Connections of earlier scripts may still be closing: count at least the one.
      cmdWith({ mask: masks.integerIn(1, 20) }, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME',
        'yes'),
      on(1, cmd('PING')),
    ]);
  });

  test('RESET and QUIT', async () => {
    await pair.check([
      cmd('SELECT', '3'),
      cmd('CLIENT', 'SETNAME', 'named'),
      cmdWith({ mask: masks.helloId }, 'HELLO', '3'),
      cmd('RESET'),
      cmd('CLIENT', 'GETNAME'),
      cmd('GET', 'missing'),
      cmd('RESET', 'x'),
      cmd('QUIT', 'extra', 'args'),
    ]);
    await pair.check([cmd('QUIT')]);
    await pair.check([raw('QUIT\r\nPING\r\n')]);
  });

  test('unknown commands, with odd bytes and long names and arguments', async () => {
    const long = 'x'.repeat(200);
    const accented = '\u00e9'.repeat(100);
    await pair.check([
      cmd('NOSUCH'),
      cmd('NOSUCH', 'a', 'b'),
      cmd('nosuch', ''),
      cmd(''),
      cmd('', ''),
      cmd('NO\r\nSUCH', 'a\r\nb', 'c\rd', 'e\nf'),
      cmd('NO\0SUCH', 'a\0b', '\0c'),
      cmd(long),
      cmd('NOSUCH', long),
      cmd('NOSUCH', 'x'.repeat(100), 'y'.repeat(100)),
      cmd('NOSUCH', 'x'.repeat(125), 'y', 'z'),
      cmd('NOSUCH', 'x'.repeat(123), 'y', 'z'),
      cmd('NOSUCH', ...Array.from({ length: 40 }, (_, index) => `arg${index}`)),
      cmd('NOSUCH', accented),
      cmd('NOSUCH', 'caf\u00e9', 'na\u00efve'),
      cmd('NOSUCH', '\u00e9'.repeat(60), 'x'.repeat(10), 'y'),
      cmd(accented, 'a'),
      cmd('GET\u00e9', 'a'),
    ]);
  });

  test('unknown commands with bytes that are not UTF-8', {
    // KNOWN BUG (src/protocol/reply-writer.ts, ReplyWriter.error): error texts are JS strings
    // written as UTF-8, so bytes that are not valid UTF-8 (here 0xff 0xfe, a lone 0xc3, an
    // é cut at byte 128) come out as EF BF BD instead of the raw bytes Redis echoes.
  }, async () => {
    await pair.check([
      cmd('NOSUCH', Buffer.from([0xff, 0xfe, 0x41])),
      cmd(Buffer.from([0xc3])),
      cmd('NOSUCH', Buffer.concat([Buffer.from('x'.repeat(126)), Buffer.from('\u00e9')])),
    ]);
  });

  test('wrong arity of connection commands', async () => {
    await pair.check([
      cmd('SELECT'),
      cmd('CLIENT', 'GETNAME', 'a'),
      cmd('CLIENT', 'NO-EVICT', 'on', 'off'),
      cmd('CLIENT', 'KILL'),
      cmd('RESET', 'now'),
      cmd('ECHO'),
    ]);
  });

  test('RESP3 variants of replies', async () => {
    await pair.check([
      cmdWith({ mask: masks.helloId }, 'HELLO', '3'),
      cmd('GET', 'missing'),
      cmd('MSET', 'a', '1'),
      cmd('MGET', 'a', 'missing'),
      cmd('SET', 'a', '2', 'NX'),
      cmd('SET', 'a', '2', 'XX', 'GET'),
      cmd('SET', 'b', '2', 'GET'),
      cmd('GETEX', 'missing', 'PERSIST'),
      cmd('GETDEL', 'missing'),
      cmd('GETSET', 'new', 'v'),
      cmd('FLUSHDB'),
      cmd('RANDOMKEY'),
      cmd('CLIENT', 'GETNAME'),
      cmd('INCRBYFLOAT', 'f', '1.5'),
      cmd('KEYS', '*'),
      cmd('EXISTS', 'a'),
      cmd('PING'),
      cmd('ECHO', 'x'),
      cmd('TYPE', 'missing'),
      cmd('CONFIG', 'GET', 'maxclients'),
      cmd('CONFIG', 'GET', 'nosuchsetting'),
      cmdWith({ mask: clientLine }, 'CLIENT', 'INFO'),
      cmdWith({ mask: clientLine }, 'CLIENT', 'LIST', 'ID', '99999'),
      cmd('CLIENT', 'LIST', 'TYPE', 'pubsub'),
      cmd('NOSUCH'),
      cmd('SLOWLOG', 'GET', '0'),
      cmd('SET', 'k', 'v', 'EX', '0'),
      cmdWith({ mask: masks.helloId }, 'HELLO', '2'),
      cmd('GET', 'missing'),
    ]);
  });

  // Intentional difference: RingKV implements CLIENT SETINFO and CLIENT NO-TOUCH (Redis 7.2
  // features that clients send at connect); Redis 7.0.15 answers "unknown subcommand".
  test('CLIENT SETINFO and NO-TOUCH (7.2 features, ours only)', async () => {
    const steps = [
      cmd('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib'),
      cmd('CLIENT', 'SETINFO', 'lib-ver', '1.2.3'),
      cmd('CLIENT', 'SETINFO', 'LIB-NAME', 'bad name'),
      cmd('CLIENT', 'SETINFO', 'bogus', 'x'),
      cmd('CLIENT', 'NO-TOUCH', 'ON'),
      cmd('CLIENT', 'NO-TOUCH', 'maybe'),
    ];
    const redis = repliesOf(await pair.run('redis', steps));
    assert.deepEqual(redis.slice(0, 2), [
      "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n",
      "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n",
    ]);
    assert.deepEqual(repliesOf(await pair.run('ringkv', steps)), [
      '+OK\r\n',
      '+OK\r\n',
      '-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n',
      "-ERR Unrecognized option 'bogus'\r\n",
      '+OK\r\n',
      '-ERR syntax error\r\n',
    ]);
    const info = repliesOf(await pair.run('ringkv', [...steps.slice(0, 2),
      cmd('CLIENT', 'INFO')]))[2] as string;
    assert.match(info, / lib-name=mylib lib-ver=1\.2\.3\n\r\n$/);
  });

  // Intentional difference: HELP texts are RingKV's own wording; only the shape is checked.
  test('CLIENT HELP is an array of simple strings (own wording)', async () => {
    const [help] = repliesOf(await pair.run('ringkv', [cmd('CLIENT', 'HELP')]));
    assert.match(help as string, /^\*\d+\r\n(\+[^\r\n]*\r\n)+$/);
  });
});
