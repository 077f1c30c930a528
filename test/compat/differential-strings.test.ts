/**
 * Differential tests of the string commands: every script runs against redis-server 7.0.15
 * and a RingKV node, and the raw reply bytes must be identical (test/helpers/differential.ts).
 */
import { after, before, describe, test } from 'node:test';
import { cmd, cmdWith, DifferentialPair, masks } from '../helpers/differential.js';
import { redisServerAvailable } from '../helpers/processes.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';
const pair = new DifferentialPair();

/** Far-future absolute times, so EXAT / PXAT scripts are deterministic. */
const FUTURE_SECONDS = '4102444800'; // 2100-01-01
const FUTURE_MS = '4102444800000';

describe('differential: strings', { skip }, () => {
  before(async () => await pair.start());
  after(async () => await pair.stop());

  test('GET and SET basics', async () => {
    await pair.check([
      cmd('GET', 'missing'),
      cmd('SET', 'k', 'v'),
      cmd('GET', 'k'),
      cmd('SET', 'k', ''),
      cmd('GET', 'k'),
      cmd('SET', 'bin', Buffer.from([0, 1, 2, 255, 13, 10])),
      cmd('GET', 'bin'),
      cmd('set', 'lower', 'case'),
      cmd('GeT', 'lower'),
      cmd('SET', '', 'empty key'),
      cmd('GET', ''),
    ]);
  });

  test('SET NX / XX / GET combinations', async () => {
    await pair.check([
      cmd('SET', 'k', 'v1', 'NX'),
      cmd('SET', 'k', 'v2', 'NX'),
      cmd('GET', 'k'),
      cmd('SET', 'k', 'v3', 'XX'),
      cmd('SET', 'other', 'v', 'XX'),
      cmd('EXISTS', 'other'),
      cmd('SET', 'k', 'v4', 'GET'),
      cmd('SET', 'new', 'v', 'GET'),
      cmd('SET', 'k', 'v5', 'NX', 'GET'),
      cmd('SET', 'k2', 'v', 'NX', 'GET'),
      cmd('SET', 'k', 'v6', 'XX', 'GET'),
      cmd('SET', 'none', 'v', 'XX', 'GET'),
      cmd('SET', 'k', 'v7', 'GET', 'GET'),
      cmd('SET', 'k', 'v8', 'nx', 'nx'),
      cmd('SET', 'k', 'v9', 'xx', 'XX'),
      cmd('SET', 'k', 'v', 'NX', 'XX'),
      cmd('SET', 'k', 'v', 'XX', 'NX'),
      cmd('GET', 'k'),
    ]);
  });

  test('SET expiry options', async () => {
    await pair.check([
      cmd('SET', 'k', 'v', 'EX', '100'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'k'),
      cmd('SET', 'k', 'v', 'PX', '100000'),
      cmdWith({ mask: masks.integerIn(99000, 100000) }, 'PTTL', 'k'),
      cmd('SET', 'k', 'v', 'EXAT', FUTURE_SECONDS),
      cmd('EXPIRETIME', 'k'),
      cmd('SET', 'k', 'v', 'PXAT', FUTURE_MS),
      cmd('PEXPIRETIME', 'k'),
      cmd('SET', 'k', 'v2', 'KEEPTTL'),
      cmd('PEXPIRETIME', 'k'),
      cmd('SET', 'k', 'v3'),
      cmd('TTL', 'k'),
      cmd('SET', 'k', 'v', 'ex', '10', 'NX'),
      // A TTL no loaded machine outlasts: the script's last step reads k on both servers.
      cmd('SET', 'k', 'v', 'XX', 'px', '5000000', 'GET'),
      cmd('SET', 'k', 'v', 'EX', '10', 'EX', '20'),
      cmd('SET', 'k', 'v', 'PX', '10', 'PX', '20'),
      cmd('SET', 'k', 'v', 'KEEPTTL', 'KEEPTTL'),
      cmd('SET', 'k', 'v', 'EX', '10', 'PX', '100'),
      cmd('SET', 'k', 'v', 'EX', '10', 'KEEPTTL'),
      cmd('SET', 'k', 'v', 'KEEPTTL', 'EX', '10'),
      cmd('SET', 'k', 'v', 'EXAT', '10', 'PXAT', '100'),
      cmd('SET', 'k', 'v', 'PXAT', FUTURE_MS, 'KEEPTTL'),
      cmd('SET', 'k', 'v', 'EX'),
      cmd('SET', 'k', 'v', 'PX'),
      cmd('SET', 'k', 'v', 'EXAT'),
      cmd('SET', 'k', 'v', 'NX', 'EX'),
      cmd('SET', 'k', 'v', 'EX', 'NX'),
      cmd('SET', 'k', 'v', 'BOGUS'),
      cmd('SET', 'k', 'v', 'EX', '10', 'BOGUS'),
      cmd('SET', 'k', 'v', 'GET', 'BOGUS'),
      cmd('GET', 'k'),
    ]);
  });

  test('SET invalid expire times', async () => {
    const cases = ['0', '-1', '-100', 'abc', '1.5', ' 1', '1 ', '+1', '01', '',
      '9223372036854775807', '9223372036854775808', '-9223372036854775808',
      '9223372036854775', '9223372036854776', '92233720368547758'];
    const steps = [];
    for (const option of ['EX', 'PX', 'EXAT', 'PXAT']) {
      for (const value of cases) steps.push(cmd('SET', 'k', 'v', option, value));
    }
    steps.push(cmd('GET', 'k'));
    await pair.check(steps);
  });

  test('SET options with the invalid time last, after valid ones and with GET', async () => {
    await pair.check([
      cmd('SET', 'k', 'old'),
      cmd('SET', 'k', 'v', 'GET', 'EX', '0'),
      cmd('SET', 'k', 'v', 'NX', 'EX', 'abc'),
      cmd('SET', 'k', 'v', 'EX', '10', 'EX', '0'),
      cmd('SET', 'k', 'v', 'EX', '0', 'EX', '10'),
      cmd('SET', 'k', 'v', 'PX', 'x', 'NX', 'XX'),
      cmd('SET', 'k', 'v', 'XX', 'NX', 'PX', 'x'),
      cmd('GET', 'k'),
    ]);
  });

  test('SETNX, SETEX, PSETEX, GETSET', async () => {
    await pair.check([
      cmd('SETNX', 'k', 'v'),
      cmd('SETNX', 'k', 'w'),
      cmd('GET', 'k'),
      cmd('SETEX', 'k', '100', 'x'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'k'),
      cmd('GET', 'k'),
      cmd('SETEX', 'k', '0', 'x'),
      cmd('SETEX', 'k', '-5', 'x'),
      cmd('SETEX', 'k', 'abc', 'x'),
      cmd('SETEX', 'k', '9223372036854775807', 'x'),
      cmd('SETEX', 'k', '9223372036854776', 'x'),
      cmd('PSETEX', 'k', '100000', 'y'),
      cmdWith({ mask: masks.integerIn(99000, 100000) }, 'PTTL', 'k'),
      cmd('PSETEX', 'k', '0', 'y'),
      cmd('PSETEX', 'k', '-1', 'y'),
      cmd('PSETEX', 'k', '1.5', 'y'),
      cmd('PSETEX', 'k', '9223372036854775807', 'y'),
      cmd('GET', 'k'),
      cmd('GETSET', 'k', 'z'),
      cmd('TTL', 'k'),
      cmd('GETSET', 'new', 'z'),
      cmd('GET', 'new'),
    ]);
  });

  test('GETDEL and GETEX', async () => {
    await pair.check([
      cmd('GETDEL', 'missing'),
      cmd('SET', 'k', 'v'),
      cmd('GETDEL', 'k'),
      cmd('EXISTS', 'k'),
      cmd('GETEX', 'missing'),
      cmd('GETEX', 'missing', 'EX', '10'),
      cmd('GETEX', 'missing', 'EX', '0'),
      cmd('GETEX', 'missing', 'EX', 'abc'),
      cmd('GETEX', 'missing', 'PX', '-1'),
      cmd('GETEX', 'missing', 'PERSIST'),
      cmd('GETEX', 'missing', 'BOGUS'),
      cmd('GETEX', 'missing', 'EX'),
      cmd('GETEX', 'missing', 'EX', '10', 'PX', '10'),
      cmd('GETEX', 'missing', 'KEEPTTL'),
      cmd('SET', 'k', 'v'),
      cmd('GETEX', 'k'),
      cmd('TTL', 'k'),
      cmd('GETEX', 'k', 'EX', '100'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 'k'),
      cmd('GETEX', 'k', 'PERSIST'),
      cmd('TTL', 'k'),
      cmd('GETEX', 'k', 'PX', '100000'),
      cmdWith({ mask: masks.integerIn(99000, 100000) }, 'PTTL', 'k'),
      cmd('GETEX', 'k', 'EXAT', FUTURE_SECONDS),
      cmd('EXPIRETIME', 'k'),
      cmd('GETEX', 'k', 'PXAT', FUTURE_MS),
      cmd('PEXPIRETIME', 'k'),
      cmd('GETEX', 'k', 'persist'),
      cmd('GETEX', 'k', 'EX', '0'),
      cmd('GETEX', 'k', 'EX', '-1'),
      cmd('GETEX', 'k', 'PX', 'abc'),
      cmd('GETEX', 'k', 'EXAT', '0'),
      cmd('GETEX', 'k', 'PXAT', '-5'),
      cmd('GETEX', 'k', 'EX', '9223372036854775807'),
      cmd('GETEX', 'k', 'PX', '9223372036854775807'),
      cmd('GETEX', 'k', 'EX'),
      cmd('GETEX', 'k', 'KEEPTTL'),
      cmd('GETEX', 'k', 'PERSIST', 'EX', '10'),
      cmd('GETEX', 'k', 'EX', '10', 'PERSIST'),
      cmd('GETEX', 'k', 'EX', '10', 'EX', '20'),
      cmd('GETEX', 'k', 'PERSIST', 'PERSIST'),
      cmd('GETEX', 'k', 'EX', '10', 'PX', '10'),
      cmd('GETEX', 'k', 'BOGUS'),
      cmd('GET', 'k'),
      cmd('GETEX', 'k', 'EXAT', '1'),
      cmd('EXISTS', 'k'),
      cmd('SET', 'k', 'v'),
      cmd('GETEX', 'k', 'PXAT', '1'),
      cmd('EXISTS', 'k'),
    ]);
  });

  test('MGET, MSET, MSETNX', async () => {
    await pair.check([
      cmd('MGET', 'a', 'b'),
      cmd('MSET', 'a', '1', 'b', '2'),
      cmd('MGET', 'a', 'b', 'c', 'a'),
      cmd('MSET', 'a'),
      cmd('MSET', 'a', '1', 'b'),
      cmd('MSET', 'x', '1', 'x', '2'),
      cmd('GET', 'x'),
      cmd('MSETNX', 'a', '9', 'z', '9'),
      cmd('MGET', 'a', 'z'),
      cmd('MSETNX', 'y', '1', 'z', '2'),
      cmd('MGET', 'y', 'z'),
      cmd('MSETNX', 'y'),
      cmd('MSETNX', 'q', '1', 'r'),
      cmd('MSETNX', 'n', '1', 'n', '2'),
      cmd('GET', 'n'),
      cmd('SET', 't', 'v', 'EX', '100'),
      cmd('MSET', 't', 'w'),
      cmd('TTL', 't'),
    ]);
  });

  test('APPEND and STRLEN', async () => {
    await pair.check([
      cmd('STRLEN', 'k'),
      cmd('APPEND', 'k', 'hello'),
      cmd('APPEND', 'k', ' world'),
      cmd('APPEND', 'k', ''),
      cmd('GET', 'k'),
      cmd('STRLEN', 'k'),
      cmd('APPEND', 'empty', ''),
      cmd('EXISTS', 'empty'),
      cmd('STRLEN', 'empty'),
      cmd('SET', 'n', '10'),
      cmd('APPEND', 'n', '5'),
      cmd('INCR', 'n'),
      cmd('SET', 't', 'v', 'EX', '100'),
      cmd('APPEND', 't', 'w'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 't'),
    ]);
  });

  test('GETRANGE index combinations', async () => {
    const indexes = ['0', '1', '3', '4', '5', '100', '-1', '-2', '-5', '-6', '-100',
      '9223372036854775807', '-9223372036854775808', '9007199254740993', '-9007199254740993'];
    const steps = [cmd('SET', 'k', 'hello'), cmd('SET', 'e', '')];
    for (const start of indexes) {
      for (const end of indexes) steps.push(cmd('GETRANGE', 'k', start, end));
    }
    steps.push(
      cmd('GETRANGE', 'e', '0', '-1'),
      cmd('GETRANGE', 'e', '0', '0'),
      cmd('GETRANGE', 'e', '-1', '-1'),
      cmd('GETRANGE', 'missing', '0', '-1'),
      cmd('GETRANGE', 'missing', '5', '2'),
      cmd('GETRANGE', 'k', 'a', '1'),
      cmd('GETRANGE', 'k', '0', 'b'),
      cmd('GETRANGE', 'k', '1.0', '2'),
      cmd('GETRANGE', 'k', '9223372036854775808', '2'),
      cmd('GETRANGE', 'k', ' 1', '2'),
      cmd('GETRANGE', 'missing', 'a', '1'),
    );
    await pair.check(steps);
  });

  test('SETRANGE offsets, padding and errors', async () => {
    await pair.check([
      cmd('SETRANGE', 'k', '0', 'hello'),
      cmd('SETRANGE', 'k', '6', 'world'),
      cmd('GET', 'k'),
      cmd('SETRANGE', 'k', '1', 'a'),
      cmd('GET', 'k'),
      cmd('SETRANGE', 'k', '100', ''),
      cmd('GET', 'k'),
      cmd('SETRANGE', 'missing', '5', ''),
      cmd('EXISTS', 'missing'),
      cmd('SETRANGE', 'missing', '0', ''),
      cmd('SETRANGE', 'pad', '3', 'x'),
      cmd('GET', 'pad'),
      cmd('SETRANGE', 'k', '-1', 'x'),
      cmd('SETRANGE', 'k', 'abc', 'x'),
      cmd('SETRANGE', 'k', '1.5', 'x'),
      // A small proto-max-bulk-len keeps the largest allowed string at 1 MB.
      cmd('CONFIG', 'SET', 'proto-max-bulk-len', '1048576'),
      cmd('SETRANGE', 'k', '1048576', 'x'),
      cmd('SETRANGE', 'k', '1048575', 'xy'),
      cmd('SETRANGE', 'k', '1048575', 'x'),
      cmd('SETRANGE', 'k', '1048576', ''),
      cmd('APPEND', 'k', 'x'),
      cmd('APPEND', 'k', ''),
      cmd('SETRANGE', 'k', '9223372036854775807', 'x'),
      cmd('SETRANGE', 'k', '9223372036854775808', 'x'),
      cmd('SETRANGE', 'k', '-1', ''),
      cmd('SETRANGE', 'missing', '-1', ''),
      cmd('SETRANGE', 'missing', '1048576', 'x'),
      cmd('STRLEN', 'k'),
      cmd('SET', 'k', 'short'),
      cmd('CONFIG', 'SET', 'proto-max-bulk-len', '536870912'),
      cmd('SET', 't', 'abc', 'EX', '100'),
      cmd('SETRANGE', 't', '1', 'X'),
      cmdWith({ mask: masks.integerIn(99, 100) }, 'TTL', 't'),
    ]);
  });

  test('INCR, DECR, INCRBY, DECRBY', async () => {
    await pair.check([
      cmd('INCR', 'n'),
      cmd('INCRBY', 'n', '10'),
      cmd('DECR', 'n'),
      cmd('DECRBY', 'n', '5'),
      cmd('DECRBY', 'n', '-5'),
      cmd('INCRBY', 'n', '-100'),
      cmd('GET', 'n'),
      cmd('SET', 'max', '9223372036854775807'),
      cmd('INCR', 'max'),
      cmd('INCRBY', 'max', '0'),
      cmd('DECR', 'max'),
      cmd('SET', 'min', '-9223372036854775808'),
      cmd('DECR', 'min'),
      cmd('INCR', 'min'),
      cmd('DECRBY', 'min', '1'),
      cmd('SET', 'z', '0'),
      cmd('DECRBY', 'z', '-9223372036854775808'),
      cmd('INCRBY', 'z', '-9223372036854775808'),
      cmd('INCRBY', 'z', '9223372036854775807'),
      cmd('INCRBY', 'z', '9223372036854775808'),
      cmd('INCRBY', 'z', '1'),
      cmd('SET', 'big', '9007199254740993'),
      cmd('INCR', 'big'),
      cmd('INCRBY', 'big', '9007199254740993'),
      cmd('GET', 'big'),
      cmd('DECRBY', 'big', '-1'),
    ]);
  });

  test('INCR family with values that are not integers', async () => {
    const values = ['abc', '1.5', ' 1', '1 ', '+1', '01', '-0', '0x10', '', '1e3',
      '9223372036854775808', '-9223372036854775809', '00', '-', '٣', '12345678901234567890'];
    const steps = [];
    for (const value of values) {
      steps.push(cmd('SET', 'v', value), cmd('INCR', 'v'), cmd('DECRBY', 'v', '1'));
      steps.push(cmd('INCRBY', 'n', value), cmd('DECRBY', 'n', value));
    }
    steps.push(cmd('GET', 'n'));
    await pair.check(steps);
  });

  test('INCRBYFLOAT results and errors', async () => {
    await pair.check([
      cmd('INCRBYFLOAT', 'f', '10.5'),
      cmd('INCRBYFLOAT', 'f', '0.1'),
      cmd('INCRBYFLOAT', 'f', '-5'),
      cmd('INCRBYFLOAT', 'f', '5.0e3'),
      cmd('INCRBYFLOAT', 'f', '-5605.6'),
      cmd('GET', 'f'),
      cmd('SET', 'g', '3.0e3'),
      cmd('INCRBYFLOAT', 'g', '1'),
      cmd('SET', 'g', '1'),
      cmd('INCRBYFLOAT', 'g', '1.5E2'),
      cmd('INCRBYFLOAT', 'g', '.5'),
      cmd('INCRBYFLOAT', 'g', '5.'),
      cmd('INCRBYFLOAT', 'g', '+1'),
      cmd('INCRBYFLOAT', 'g', '-0'),
      cmd('INCRBYFLOAT', 'g', '0.0000000000000000001'),
      cmd('INCRBYFLOAT', 'g', '1e-20'),
      cmd('INCRBYFLOAT', 'g', '123456789012345678901234567890'),
      cmd('INCRBYFLOAT', 'g', '-123456789012345678901234567890'),
      cmd('INCRBYFLOAT', 'g', '0.1'),
      cmd('INCRBYFLOAT', 'g', 'inf'),
      cmd('INCRBYFLOAT', 'g', '-inf'),
      cmd('INCRBYFLOAT', 'g', 'nan'),
      cmd('INCRBYFLOAT', 'g', 'abc'),
      cmd('INCRBYFLOAT', 'g', ''),
      cmd('INCRBYFLOAT', 'g', ' 1'),
      cmd('INCRBYFLOAT', 'g', '1 '),
      cmd('INCRBYFLOAT', 'g', '1e'),
      cmd('INCRBYFLOAT', 'g', '0x10'),
      cmd('INCRBYFLOAT', 'g', '1e5000'),
      cmd('INCRBYFLOAT', 'g', '1e308'),
      cmd('INCRBYFLOAT', 'g', '1e4000'),
      cmd('GET', 'g'),
      cmd('SET', 's', 'abc'),
      cmd('INCRBYFLOAT', 's', '1'),
      cmd('SET', 's', 'inf'),
      cmd('INCRBYFLOAT', 's', '1'),
      cmd('SET', 's', '5'),
      cmd('INCRBYFLOAT', 's', '-5'),
      cmd('INCRBYFLOAT', 's', '-0.5'),
      cmd('INCRBYFLOAT', 's', '0.25'),
      cmd('INCRBYFLOAT', 'z', '0'),
      cmd('INCRBYFLOAT', 'small', '0.00000000000000001'),
      cmd('INCRBYFLOAT', 'small2', '0.000000000000000005'),
      cmd('INCRBYFLOAT', 'third', '0.3333333333333333333333'),
      cmd('INCRBYFLOAT', 'large', '12345678901234567.5'),
      cmd('INCRBYFLOAT', 'large2', '1.7976931348623157e308'),
      cmd('INCRBYFLOAT', 'large2', '1.7976931348623157e308'),
      cmd('INCRBYFLOAT', 'neg', '-1.1'),
      cmd('INCRBYFLOAT', 'neg', '1.1'),
      cmd('INCRBYFLOAT', 'nul', '1\0'),
      cmd('INCRBYFLOAT', 'nul', '\0'),
      cmd('SET', 'nul', '2\0'),
      cmd('INCRBYFLOAT', 'nul', '1'),
      cmd('INCRBYFLOAT', 'hex', '0x1p-2'),
      cmd('INCRBYFLOAT', 'hex', '0X.8P1'),
      cmd('INCRBYFLOAT', 'hex', '0x'),
      cmd('INCRBYFLOAT', 'hex', '0x1p'),
      cmd('INCRBYFLOAT', 'hex', '-0x10'),
      cmd('INCRBYFLOAT', 'inf2', 'Infinity'),
      cmd('INCRBYFLOAT', 'inf2', 'infinit'),
      cmd('INCRBYFLOAT', 'inf2', 'nan(1)'),
      cmd('INCRBYFLOAT', 'tiny', '1e-4951'),
      cmd('INCRBYFLOAT', 'tiny', '1e-4960'),
      cmd('INCRBYFLOAT', 'tiny', '0e-99999'),
      cmd('INCRBYFLOAT', 'tiny', '1e-300'),
      cmd('INCRBYFLOAT', 'huge', '1.18e4932'),
      cmd('INCRBYFLOAT', 'huge', '1.2e4932'),
      cmd('INCRBYFLOAT', 'huge', '1e4931'),
      cmd('INCRBYFLOAT', 'long', '1'.repeat(5119)),
      cmd('INCRBYFLOAT', 'long', '1'.repeat(5120)),
    ]);
  });

  test('wrong arity of string commands', async () => {
    const calls: string[][] = [
      ['GET'], ['GET', 'a', 'b'], ['SET'], ['SET', 'k'], ['SETNX', 'k'], ['SETNX', 'k', 'v', 'x'],
      ['SETEX', 'k', '10'], ['PSETEX', 'k'], ['GETSET', 'k'], ['GETDEL'], ['GETDEL', 'a', 'b'],
      ['GETEX'], ['MGET'], ['MSET'], ['MSET', 'k'], ['MSETNX', 'k'], ['APPEND', 'k'],
      ['STRLEN'], ['GETRANGE', 'k', '0'], ['SETRANGE', 'k', '0'], ['INCR'], ['DECR', 'a', 'b'],
      ['INCRBY', 'k'], ['DECRBY', 'k', '1', '2'], ['INCRBYFLOAT', 'k'],
    ];
    await pair.check(calls.map((args) => cmd(...args)));
  });
});
