/**
 * Differential tests of the request parser (COMPAT.md B7): raw bytes go to redis-server
 * 7.0.15 and to a RingKV node, and the bytes received and whether the server closed the
 * connection must be identical. Each script ends with a PING probe on every connection
 * (see test/helpers/differential.ts), which records "open", "closed" or "silent".
 */
import { after, before, describe, test } from 'node:test';
import { cmd, DifferentialPair, raw } from '../helpers/differential.js';
import { redisServerAvailable } from '../helpers/processes.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const pair = new DifferentialPair();

const NONE = { replies: 0 };

describe('differential: protocol', { skip }, () => {
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('a multibulk request whose argument is not a bulk string', async () => {
    await pair.check([raw('*1\r\nx\r\n')]);
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n')]);
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n:1\r\n')]);
  });

  test('invalid multibulk lengths', async () => {
    await pair.check([raw('*3000000000\r\n')]);
    await pair.check([raw('*2147483648\r\n')]);
    await pair.check([raw('*abc\r\n')]);
    await pair.check([raw('*\r\n')]);
    await pair.check([raw('*+1\r\n$4\r\nPING\r\n')]);
    await pair.check([raw('*01\r\n$4\r\nPING\r\n')]);
    await pair.check([raw('*1 \r\n$4\r\nPING\r\n')]);
    await pair.check([raw('*-0\r\n')]);
  });

  test('empty and negative multibulk counts are ignored', async () => {
    await pair.check([raw('*0\r\n', NONE), raw('*-1\r\n', NONE), raw('*-5\r\n', NONE),
      cmd('PING')]);
    await pair.check([raw('*0\r\n*1\r\n$4\r\nPING\r\n')]);
  });

  test('invalid bulk lengths', async () => {
    await pair.check([raw('*1\r\n$-1\r\n')]);
    await pair.check([raw('*1\r\n$abc\r\n')]);
    await pair.check([raw('*1\r\n$\r\n')]);
    await pair.check([raw('*1\r\n$+4\r\nPING\r\n')]);
    await pair.check([raw('*1\r\n$04\r\nPING\r\n')]);
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n$600000000\r\n')]);
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n$536870913\r\n')]);
  });

  test('a bulk string not followed by CRLF is taken by its length', async () => {
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n$3\r\nabcXY*1\r\n$4\r\nPING\r\n',
      { replies: 2 })]);
  });

  test('lines longer than the inline limit', async () => {
    await pair.check([raw('a'.repeat(70 * 1024))]);
    await pair.check([raw(`*${'1'.repeat(70 * 1024)}`)]);
    await pair.check([raw(`*1\r\n$${'1'.repeat(70 * 1024)}`)]);
    await pair.check([raw(`ECHO ${'a'.repeat(60 * 1024)}\r\n`)]);
  });

  test('inline commands with quotes and escapes', async () => {
    await pair.check([
      raw('PING\r\n'),
      raw('PING\n'),
      raw('  ping   \r\n'),
      raw('ECHO\thello\r\n'),
      raw('ECHO "hello world"\r\n'),
      raw("ECHO 'single quoted'\r\n"),
      raw('ECHO "a\\x41\\n\\r\\t\\b\\a\\"\\\\z"\r\n'),
      raw('ECHO "\\xZZ\\x4"\r\n'),
      raw("ECHO 'it\\'s \\n raw'\r\n"),
      raw('ECHO ""\r\n'),
      raw("ECHO ''\r\n"),
      raw('SET k "v 1"\r\nGET k\r\n', { replies: 2 }),
      raw('ECHO\x0bvt\r\n'),
      raw('ECHO x\ry\r\n'),
      raw('ECHO \xe9\r\n'),
    ]);
  });

  test('empty inline lines produce no reply', async () => {
    await pair.check([raw('\r\n', NONE), raw('\n', NONE), raw('   \r\n', NONE),
      raw('\t\r\n', NONE), raw('\r\n\r\nPING\r\n')]);
  });

  test('unbalanced quotes in an inline command', async () => {
    await pair.check([raw('SET "a b\r\n')]);
    await pair.check([raw("SET 'a\r\n")]);
    await pair.check([raw('ECHO "a"b\r\n')]);
    await pair.check([raw("ECHO 'a'b\r\n")]);
    await pair.check([raw('ECHO a"b\r\n')]);
    await pair.check([raw('ECHO a"b c"\r\n')]);
    await pair.check([raw('ECHO "a\\"\r\n')]);
  });

  test('HTTP requests are dropped without a reply', async () => {
    await pair.check([raw('POST / HTTP/1.1\r\nHost: example.com\r\n\r\n', NONE)]);
    await pair.check([raw('post /x HTTP/1.0\r\n', NONE)]);
    await pair.check([raw('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n')]);
    await pair.check([raw('Host: example.com\r\n', NONE)]);
    await pair.check([raw('*1\r\n$4\r\nPOST\r\n', NONE)]);
    await pair.check([raw('*2\r\n$5\r\nHOST:\r\n$1\r\nx\r\n', NONE)]);
  });

  test('pipelined requests mixing inline and multibulk', async () => {
    await pair.check([
      raw('PING\r\n*1\r\n$4\r\nPING\r\nECHO x\r\n*2\r\n$4\r\nECHO\r\n$1\r\ny\r\n',
        { replies: 4 }),
      raw('*1\r\n$4\r\nPI'),
      raw('NG\r\n'),
      raw('ECH', NONE),
      raw('O z\r\n'),
    ]);
  });

  test('an empty command name', async () => {
    await pair.check([raw('*1\r\n$0\r\n\r\n'), raw('""\r\n')]);
  });

  // KNOWN BUG (src/protocol/request-decoder.ts): Redis finds line ends with strchr, which
  // stops at a NUL byte, so a header or inline line holding a NUL is never complete: Redis
  // sends nothing and keeps waiting (the connection stays open and silent). RingKV parses
  // the line: "-ERR Protocol error: expected '$', got '\0'" (with a raw NUL) and closes;
  // "invalid multibulk length" / "invalid bulk length" and closes; or runs the command
  // (inline "ECHO a\0b" answers "$1\r\na\r\n", "PI\0NG" unknown command 'PI').
  const nulCases: Array<[string, string]> = [
    ['a NUL where a bulk header was expected', '*1\r\n\0\r\n'],
    ['a NUL in a multibulk count', '*1\0\r\n$4\r\nPING\r\n'],
    ['a NUL in a bulk length', '*1\r\n$4\0\r\nPING\r\n'],
    ['a NUL inside an inline argument', 'ECHO a\0b\r\n'],
    ['a NUL inside an inline command name', 'PI\0NG\r\n'],
    ['a NUL at the start of an inline line', '\0PING\r\n'],
  ];
  for (const [name, bytes] of nulCases) {
    test(`header and inline lines with ${name}`, async () => {
      await pair.check([raw(bytes, NONE)]);
    });
  }

  test('a non-ASCII byte where a bulk header was expected', {
    // KNOWN BUG (src/protocol/request-decoder.ts readBulkHeader, and reply-writer error()):
    // the offending byte 0xff is shown as U+00FF encoded in UTF-8 (C3 BF); Redis sends the
    // raw byte: "-ERR Protocol error: expected '$', got '\xff'\r\n".
  }, async () => {
    await pair.check([raw('*1\r\n\xff\r\n')]);
  });
});
