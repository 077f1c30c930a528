/**
 * parseExpiry: the EX / PX / EXAT / PXAT / KEEPTTL / PERSIST options of SET, SETEX, PSETEX
 * and GETEX, with Redis 7's precedence of errors: conflicting options are a syntax error
 * before any number is parsed, then "not an integer", then "invalid expire time".
 * Spot-checked with SET / GETEX / SETEX / PSETEX against redis-server 7.0.15.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExpiry, type ExpiryOption } from '../../src/commands/expiry.js';

const NOW = 1_700_000_000_000;
const NONE: ExpiryOption = { expireAtMs: 0, keepTtl: false, persist: false, set: false };
const SYNTAX = 'ERR syntax error';
const NOT_INTEGER = 'ERR value is not an integer or out of range';
const invalid = (command: string): string => `ERR invalid expire time in '${command}' command`;
const at = (expireAtMs: number): ExpiryOption =>
  ({ expireAtMs, keepTtl: false, persist: false, set: true });

interface Case {
  options: string[];
  command?: string;
  nowMs?: number;
  result: ExpiryOption | string;
}

const INT64_MAX = '9223372036854775807';

const CASES: Case[] = [
  { options: [], result: NONE },
  { options: ['KEEPTTL'], result: { ...NONE, keepTtl: true } },
  { options: ['keepttl', 'KeepTtl'], result: { ...NONE, keepTtl: true } },
  { options: ['PERSIST'], command: 'getex', result: { ...NONE, persist: true } },
  { options: ['EX', '10'], result: at(NOW + 10_000) },
  { options: ['ex', '10'], result: at(NOW + 10_000) },
  { options: ['PX', '10'], result: at(NOW + 10) },
  { options: ['EXAT', '2000000000'], result: at(2_000_000_000_000) },
  { options: ['PXAT', '2000000000000'], result: at(2_000_000_000_000) },
  { options: ['PXAT', '1'], result: at(1) },
  { options: ['EXAT', '1'], result: at(1000) },
  // Repeating the same option is allowed; the last value wins.
  { options: ['EX', '10', 'EX', '20'], result: at(NOW + 20_000) },
  { options: ['EX', 'abc', 'EX', '20'], result: at(NOW + 20_000) },
  { options: ['EX', '10', 'EX', 'abc'], result: NOT_INTEGER },
  // Different options together: syntax error, even when a value is also bad.
  { options: ['EX', '10', 'PX', '10'], result: SYNTAX },
  { options: ['EX', 'abc', 'PX', '10'], result: SYNTAX },
  { options: ['EX', '10', 'PX', 'abc'], result: SYNTAX },
  { options: ['EX', '0', 'PXAT', '0'], result: SYNTAX },
  { options: ['KEEPTTL', 'EX', '10'], result: SYNTAX },
  { options: ['EX', '10', 'KEEPTTL'], result: SYNTAX },
  { options: ['PERSIST', 'EX', '10'], command: 'getex', result: SYNTAX },
  { options: ['EXAT', '10', 'PXAT', '10'], result: SYNTAX },
  // Integer parsing.
  { options: ['EX', 'abc'], result: NOT_INTEGER },
  { options: ['EX', ''], result: NOT_INTEGER },
  { options: ['EX', '1.5'], result: NOT_INTEGER },
  { options: ['EX', '+10'], result: NOT_INTEGER },
  { options: ['EX', '010'], result: NOT_INTEGER },
  { options: ['PX', ' 10'], result: NOT_INTEGER },
  { options: ['EX', '99999999999999999999'], result: NOT_INTEGER },
  { options: ['PX', '9223372036854775808'], result: NOT_INTEGER },
  // Range: not positive, or overflowing once converted / added to now.
  { options: ['EX', '0'], result: invalid('set') },
  { options: ['EX', '-1'], result: invalid('set') },
  { options: ['PX', '0'], result: invalid('set') },
  { options: ['PX', '-9223372036854775808'], result: invalid('set') },
  { options: ['EXAT', '0'], result: invalid('set') },
  { options: ['PXAT', '-5'], result: invalid('set') },
  { options: ['EX', '0'], command: 'getex', result: invalid('getex') },
  { options: ['EX', '-1'], command: 'setex', result: invalid('setex') },
  { options: ['PX', '0'], command: 'psetex', result: invalid('psetex') },
  { options: ['EX', '9223372036854776'], result: invalid('set') },
  { options: ['EX', '9223372036854775'], result: invalid('set') },
  { options: ['EXAT', '9223372036854775'], result: at(9223372036854775000) },
  { options: ['EXAT', '9223372036854776'], result: invalid('set') },
  { options: ['PXAT', INT64_MAX], result: at(Number(INT64_MAX)) },
  { options: ['PX', INT64_MAX], result: invalid('set') },
  { options: ['PX', String(9223372036854775807n - BigInt(NOW))],
    result: at(Number(INT64_MAX)) },
  { options: ['PX', String(9223372036854775807n - BigInt(NOW) + 1n)], result: invalid('set') },
  { options: ['PX', '1'], nowMs: 0, result: at(1) },
];

for (const { options, command = 'set', nowMs = NOW, result } of CASES) {
  test(`parseExpiry(${options.join(' ') || '(none)'}) for ${command}`, () => {
    assert.deepEqual(parseExpiry(options.map((option) => Buffer.from(option)), command, nowMs),
      result);
  });
}
