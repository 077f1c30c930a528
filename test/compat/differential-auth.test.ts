/**
 * Differential tests against a redis-server and a RingKV node that both require a password
 * (requirepass "secret"): NOAUTH, WRONGPASS, AUTH and HELLO ... AUTH flows, and the request
 * limits that apply before authentication (COMPAT.md B7, CVE-2021-32675).
 */
import { after, before, describe, test } from 'node:test';
import { cmd, cmdWith, DifferentialPair, masks, raw } from '../helpers/differential.js';
import { redisServerAvailable } from '../helpers/processes.js';
import { encodeCommand } from '../helpers/resp-client.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const pair = new DifferentialPair([], 'secret');
const hello = { mask: masks.helloId };

describe('differential: requirepass', { skip }, () => {
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('commands before AUTH', async () => {
    await pair.check([
      cmd('GET', 'k'),
      cmd('PING'),
      cmd('ECHO', 'x'),
      cmd('SELECT', '1'),
      cmd('CLIENT', 'SETNAME', 'x'),
      cmd('CLIENT', 'BOGUS'),
      cmd('CONFIG', 'GET', 'maxclients'),
      cmd('NOSUCH', 'a'),
      cmd('GET'),
      cmd('SET', 'k'),
      cmd('HELLO'),
      cmd('HELLO', '3'),
      cmd('HELLO', '2', 'SETNAME', 'x'),
      cmd('HELLO', '4'),
      cmd('HELLO', 'abc'),
      cmd('HELLO', '3', 'AUTH', 'default'),
      cmd('RESET'),
      cmd('GET', 'k'),
      cmd('QUIT'),
    ]);
  });

  test('AUTH forms', async () => {
    await pair.check([
      cmd('AUTH', 'wrong'),
      cmd('AUTH', ''),
      cmd('AUTH', 'default', 'wrong'),
      cmd('AUTH', 'nosuchuser', 'secret'),
      cmd('AUTH', 'a', 'b', 'c'),
      cmd('GET', 'k'),
      cmd('AUTH', 'secret'),
      cmd('GET', 'k'),
      cmd('AUTH', 'wrong'),
      cmd('GET', 'k'),
      cmd('AUTH', 'default', 'secret'),
      cmd('RESET'),
      cmd('GET', 'k'),
    ]);
  });

  test('HELLO with AUTH', async () => {
    await pair.check([
      cmd('HELLO', '3', 'AUTH', 'default', 'wrong'),
      cmd('HELLO', '3', 'AUTH', 'nosuchuser', 'secret'),
      cmd('HELLO', '3', 'AUTH', 'default', 'wrong', 'SETNAME', 'bad name'),
      cmd('HELLO', '3', 'SETNAME', 'bad name'),
      cmd('HELLO', '3', 'AUTH', 'default', 'secret', 'SETNAME', 'bad name'),
      cmd('GET', 'missing'),
      cmdWith(hello, 'HELLO', '3', 'AUTH', 'default', 'secret', 'SETNAME', 'named'),
      cmd('GET', 'missing'),
      cmd('CLIENT', 'GETNAME'),
      cmd('HELLO', '2', 'AUTH', 'default', 'wrong'),
      cmd('GET', 'missing'),
    ]);
    await pair.check([
      cmdWith(hello, 'HELLO', '2', 'AUTH', 'default', 'secret'),
      cmd('GET', 'missing'),
      cmdWith(hello, 'HELLO', 'AUTH', 'default', 'secret'),
    ]);
  });

  test('multibulk and bulk limits before AUTH', async () => {
    await pair.check([raw('*11\r\n')]);
    await pair.check([raw('*1000000\r\n')]);
    await pair.check([raw(encodeCommand(Array.from({ length: 10 }, () => 'x')))]);
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n$20000\r\n')]);
    await pair.check([raw('*2\r\n$4\r\nECHO\r\n$16385\r\n')]);
    await pair.check([raw(encodeCommand(['ECHO', 'x'.repeat(16384)]))]);
    await pair.check([raw('*3000000000\r\n')]);
    await pair.check([raw(`${'a'.repeat(70 * 1024)}`)]);
  });

  test('the limits lift after AUTH', async () => {
    await pair.check([
      cmd('AUTH', 'secret'),
      raw(encodeCommand(['MSET', ...Array.from({ length: 20 }, (_, index) => `k${index}`)])),
      raw(encodeCommand(['ECHO', 'x'.repeat(20000)])),
    ]);
  });

  test('HTTP requests are dropped before AUTH too', async () => {
    await pair.check([raw('POST / HTTP/1.1\r\nHost: example.com\r\n\r\n', { replies: 0 })]);
  });
});
