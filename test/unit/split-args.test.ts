/**
 * splitArgs: Redis's sdssplitargs, used for inline commands and redis.conf lines.
 * Quoted-input expectations were checked with inline commands against redis-server 7.0.15.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitArgs } from '../../src/util/split-args.js';
import { referenceSplitArgs } from './redis-reference.js';

interface Case {
  name: string;
  line: string;
  /** null: unbalanced quotes (the C function returns NULL). */
  args: string[] | null;
}

const CASES: Case[] = [
  { name: 'empty line', line: '', args: [] },
  { name: 'only blanks', line: ' \t \r\n\v\f', args: [] },
  { name: 'words', line: 'SET key value', args: ['SET', 'key', 'value'] },
  { name: 'runs of separators', line: '  a \t\t b\r\nc  ', args: ['a', 'b', 'c'] },
  { name: 'VT and FF are skipped between words', line: '\va \fb', args: ['a', 'b'] },
  { name: 'VT and FF do not end an unquoted word', line: 'a\vb c\fd',
    args: ['a\vb', 'c\fd'] },
  { name: 'double quotes keep spaces', line: '"a b" c', args: ['a b', 'c'] },
  { name: 'single quotes keep spaces', line: "'a b' c", args: ['a b', 'c'] },
  { name: 'empty double-quoted argument', line: 'SET k ""', args: ['SET', 'k', ''] },
  { name: 'empty single-quoted argument', line: "''", args: [''] },
  { name: 'escapes in double quotes', line: '"\\n\\r\\t\\b\\a\\\\\\"\\q"',
    args: ['\n\r\t\b\x07\\"q'] },
  { name: '\\xHH in double quotes', line: '"\\x41\\x7a\\xff\\x00"', args: ['Az\xff\x00'] },
  { name: '\\xHH is case-insensitive', line: '"\\xAb\\xaB"', args: ['\xab\xab'] },
  { name: '\\x with one hex digit is an escaped x', line: '"\\x4"', args: ['x4'] },
  { name: '\\x with no hex digits is an escaped x', line: '"\\xzz"', args: ['xzz'] },
  { name: 'single quotes take only \\\'', line: "'a\\'b\\n\\x41'", args: ["a'b\\n\\x41"] },
  { name: 'quotes inside a word start a quoted part', line: 'ab"c d"', args: ['abc d'] },
  { name: 'single quote inside a word', line: "ab'c d'", args: ['abc d'] },
  { name: 'double quote inside single quotes', line: '\'a"b\'', args: ['a"b'] },
  { name: 'single quote inside double quotes', line: '"a\'b"', args: ["a'b"] },
  { name: 'closing quote then tab', line: '"a"\tb', args: ['a', 'b'] },
  { name: 'closing quote then VT (isspace)', line: '"a"\vb', args: ['a', 'b'] },
  { name: 'closing double quote followed by a letter', line: '"a"b', args: null },
  { name: 'closing single quote followed by a letter', line: "'a'b", args: null },
  { name: 'closing quote followed by a quote', line: '"a""b"', args: null },
  { name: 'unbalanced double quote', line: '"abc', args: null },
  { name: 'unbalanced single quote', line: "'abc", args: null },
  { name: 'backslash at the end of a double-quoted part', line: '"abc\\', args: null },
  { name: 'escaped closing quote leaves it unbalanced', line: '"abc\\"', args: null },
  { name: 'NUL ends the line', line: 'a b\0c d', args: ['a', 'b'] },
  { name: 'NUL right after a word', line: 'ab\0', args: ['ab'] },
  { name: 'NUL at the start', line: '\0abc', args: [] },
  { name: 'NUL inside double quotes is unbalanced', line: '"a\0b"', args: null },
  { name: 'NUL inside single quotes is unbalanced', line: "'a\0b'", args: null },
  { name: 'NUL after a closing quote is the end', line: '"a"\0b', args: ['a'] },
  { name: 'bytes above 127 are ordinary', line: '\xe9t\xe9 \xff', args: ['\xe9t\xe9', '\xff'] },
  { name: 'a lone backslash outside quotes is literal', line: 'a\\b \\', args: ['a\\b', '\\'] },
];

for (const { name, line, args } of CASES) {
  test(`splitArgs: ${name}`, () => {
    const bytes = Buffer.from(line, 'latin1');
    const toText = (result: Buffer[] | null): string[] | null =>
      result === null ? null : result.map((arg) => arg.toString('latin1'));
    assert.deepEqual(toText(referenceSplitArgs(bytes)), args, 'reference model');
    assert.deepEqual(toText(splitArgs(bytes)), args);
  });
}

test('splitArgs: a plain line returns zero-copy slices; a quoted one owns its bytes', () => {
  const plain = Buffer.from('GET key');
  const args = splitArgs(plain) ?? [];
  assert.equal(args[1]?.buffer, plain.buffer, 'slice of the line');
  const quoted = Buffer.from('GET "key"');
  const own = splitArgs(quoted) ?? [];
  quoted.fill(0);
  assert.equal(own[1]?.toString(), 'key');
});

test('splitArgs: long lines stay linear (no quadratic blow-up)', () => {
  const plain = Buffer.from('ab '.repeat(100_000));
  assert.equal(splitArgs(plain)?.length, 100_000);
  const quoted = Buffer.from('"a\\x41" '.repeat(50_000));
  assert.equal(splitArgs(quoted)?.length, 50_000);
});

const plainByte = fc.constantFrom(...'ab $*-:\t\r\n01\\'.split('').map((c) => c.charCodeAt(0)),
  0x80, 0xff);
const anyByte = fc.oneof(
  { weight: 3, arbitrary: plainByte },
  { weight: 1, arbitrary: fc.constantFrom(0x22, 0x27, 0x00, 0x0b, 0x0c, 0x78, 0x41, 0x66) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

test('property: splitArgs agrees with the sdssplitargs model on any bytes', () => {
  fc.assert(fc.property(fc.array(anyByte, { maxLength: 80 }), (bytes) => {
    const line = Buffer.from(bytes);
    assert.deepEqual(splitArgs(line), referenceSplitArgs(line));
  }), { numRuns: 5000 });
});

test('property: the plain fast path equals the quoted path on plain input', () => {
  // A trailing NUL sends a line down the general (quoted) path without changing its
  // meaning, since the C code stops at NUL: so both paths must split alike.
  fc.assert(fc.property(fc.array(plainByte, { maxLength: 80 }), (bytes) => {
    const line = Buffer.from(bytes);
    const viaQuotedPath = splitArgs(Buffer.concat([line, Buffer.from([0, 0x41])]));
    assert.deepEqual(splitArgs(line), viaQuotedPath);
  }), { numRuns: 3000 });
});
