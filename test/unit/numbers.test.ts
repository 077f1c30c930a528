/**
 * Redis number rules: string2ll-strict int64 parsing, overflow-checked addition, and
 * INCRBYFLOAT's parse / add / format in an emulated 80-bit long double. INCRBYFLOAT
 * expectations were recorded from redis-server 7.0.15 on x86_64 (x87 long double).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  addInt64,
  addLongDoubles,
  formatLongDouble,
  INT64_MAX,
  INT64_MIN,
  int64Bytes,
  parseInt32,
  parseInt64,
  parseLongDouble,
  parseSafeInteger,
  type LongDouble,
} from '../../src/commands/numbers.js';
import { referenceString2ll } from './redis-reference.js';

const INT64_CASES: Array<[string, bigint | null]> = [
  ['0', 0n],
  ['1', 1n],
  ['-1', -1n],
  ['42', 42n],
  ['9007199254740991', 9007199254740991n],
  ['-9007199254740991', -9007199254740991n],
  ['9007199254740992', 9007199254740992n],
  ['9223372036854775807', INT64_MAX],
  ['-9223372036854775808', INT64_MIN],
  ['9223372036854775808', null],
  ['-9223372036854775809', null],
  ['18446744073709551615', null],
  ['99999999999999999999', null],
  ['123456789012345678901', null],
  ['', null],
  ['-', null],
  ['+1', null],
  ['-0', null],
  ['00', null],
  ['007', null],
  ['0000000000000000001', null],
  ['-0000000000000000001', null],
  [' 1', null],
  ['1 ', null],
  ['1\n', null],
  ['1.0', null],
  ['1e3', null],
  ['0x1f', null],
  ['１', null], // a full-width digit
  ['12a', null],
  ['100000000000000000a', null],
];

for (const [text, expected] of INT64_CASES) {
  test(`parseInt64(${JSON.stringify(text)})`, () => {
    assert.equal(referenceString2ll(text), expected, 'reference agrees with the table');
    const parsed = parseInt64(Buffer.from(text, 'utf8'));
    if (expected === null) {
      assert.equal(parsed, null);
      return;
    }
    assert.equal(BigInt(parsed ?? 'x'), expected);
    // Safe integers come back as numbers (no BigInt on the hot path), others as bigints.
    const safe = expected <= BigInt(Number.MAX_SAFE_INTEGER) &&
      expected >= BigInt(Number.MIN_SAFE_INTEGER);
    assert.equal(typeof parsed, safe ? 'number' : 'bigint');
    assert.equal(parseSafeInteger(Buffer.from(text)), safe ? Number(expected) : null);
  });
}

test('property: parseInt64 accepts exactly what string2ll accepts', () => {
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789-+ x'.split('')),
    maxLength: 22 });
  const int64 = fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map(String);
  fc.assert(fc.property(fc.oneof(digits, int64), (text) => {
    const parsed = parseInt64(Buffer.from(text));
    const expected = referenceString2ll(text);
    assert.equal(parsed === null ? null : BigInt(parsed), expected, text);
  }), { numRuns: 5000 });
});

const ADD_CASES: Array<[number | bigint, number | bigint, bigint | null]> = [
  [1, 2, 3n],
  [-5, 5, 0n],
  [Number.MAX_SAFE_INTEGER, 1, 9007199254740992n],
  [Number.MIN_SAFE_INTEGER, -1, -9007199254740992n],
  [INT64_MAX, 0, INT64_MAX],
  [INT64_MAX, 1, null],
  [INT64_MAX, -1, INT64_MAX - 1n],
  [INT64_MIN, -1, null],
  [INT64_MIN, 1, INT64_MIN + 1n],
  [INT64_MAX, INT64_MIN, -1n],
  [INT64_MIN, INT64_MIN, null],
  [9223372036854775000n, 807, INT64_MAX],
  [9223372036854775000n, 808, null],
  [2n ** 62n, 2n ** 62n, null],
];

for (const [a, b, expected] of ADD_CASES) {
  test(`addInt64(${a}, ${b})`, () => {
    const sum = addInt64(a, b);
    assert.equal(sum === null ? null : BigInt(sum), expected);
    if (sum !== null) {
      const safe = Number.isSafeInteger(Number(sum)) && BigInt(Number(sum)) === BigInt(sum);
      assert.equal(typeof sum, safe ? 'number' : 'bigint', 'safe sums are numbers');
    }
  });
}

test('property: addInt64 is exact int64 addition with overflow as null', () => {
  const operand = fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: INT64_MIN, max: INT64_MAX }));
  fc.assert(fc.property(operand, operand, (a, b) => {
    const exact = BigInt(a) + BigInt(b);
    const expected = exact > INT64_MAX || exact < INT64_MIN ? null : exact;
    const sum = addInt64(a, b);
    assert.equal(sum === null ? null : BigInt(sum), expected);
  }), { numRuns: 3000 });
});

test('int64Bytes writes decimal text', () => {
  assert.equal(int64Bytes(-42).toString(), '-42');
  assert.equal(int64Bytes(INT64_MIN).toString(), '-9223372036854775808');
  assert.equal(int64Bytes(0).toString(), '0');
});

const ZERO: LongDouble = { negative: false, significand: 0n, exponent: 0 };
const NOT_FLOAT = 'ERR value is not a valid float';
const NAN_OR_INFINITY = 'ERR increment would produce NaN or Infinity';

/** INCRBYFLOAT as strings.ts composes it: parse both, add, check, format. */
function incrbyfloat(current: string | null, increment: string): string {
  const base = current === null ? ZERO : parseLongDouble(Buffer.from(current, 'latin1'));
  const delta = parseLongDouble(Buffer.from(increment, 'latin1'));
  if (base === null || delta === null) return NOT_FLOAT;
  const sum = base === 'inf' || delta === 'inf' ? 'inf' : addLongDoubles(base, delta);
  return sum === 'inf' ? NAN_OR_INFINITY : formatLongDouble(sum);
}

interface FloatCase {
  current: string | null;
  increment: string;
  /** The reply, or for long outputs `sha256:<hex of the reply>`. */
  result: string;
  todo?: string;
}

const INCRBYFLOAT_CASES: FloatCase[] = [
  { current: '10.5', increment: '0.1', result: '10.6' },
  { current: '3.0e3', increment: '0', result: '3000' },
  { current: null, increment: '5.0e-18', result: '0' },
  { current: '0', increment: '5e-18', result: '0' },
  { current: '1', increment: '5.0e-18', result: '1' },
  { current: '0', increment: '-5.0e-18', result: '0' },
  { current: '0', increment: '1.5e-17', result: '0.00000000000000002' },
  { current: '0', increment: '2.5e-17', result: '0.00000000000000002' },
  { current: '0', increment: '1.5e-18', result: '0' },
  { current: '0', increment: '6e-18', result: '0.00000000000000001' },
  { current: '0', increment: '4e-18', result: '0' },
  { current: '0', increment: '0.000000000000000015', result: '0.00000000000000002' },
  { current: '0', increment: '0.000000000000000025', result: '0.00000000000000002' },
  { current: '0', increment: '1e-17', result: '0.00000000000000001' },
  { current: '0', increment: '0.5e-17', result: '0' },
  { current: '1', increment: '1e-17', result: '1.00000000000000001' },
  { current: '3', increment: '0.00000000000000001', result: '3.00000000000000001' },
  { current: '0', increment: '-0.00000000000000001', result: '-0.00000000000000001' },
  { current: '0', increment: '1.4999999999999999e-17', result: '0.00000000000000001' },
  { current: '-1e-18', increment: '0', result: '0' },
  { current: '0.1', increment: '0.2', result: '0.3' },
  { current: '1', increment: '-1.1', result: '-0.1' },
  { current: '1', increment: '-1', result: '0' },
  { current: '-0.0', increment: '0', result: '0' },
  { current: '0', increment: '-0', result: '0' },
  { current: '1.23456789012345678', increment: '0', result: '1.23456789012345678' },
  { current: '9999999999999999999', increment: '1', result: '10000000000000000000' },
  { current: '17.9999999999999999999', increment: '0', result: '18' },
  { current: '99999999999999999999999', increment: '1', result: '100000000000000000000000' },
  { current: '1.', increment: '0', result: '1' },
  { current: '.5', increment: '0', result: '0.5' },
  { current: '-.5', increment: '10', result: '9.5' },
  { current: '+1.5', increment: '0', result: '1.5' },
  { current: '5e-1', increment: '0', result: '0.5' },
  { current: '10', increment: '1E+1', result: '20' },
  { current: '10', increment: '1e+01', result: '20' },
  { current: '10', increment: '0e0', result: '10' },
  { current: '100.1', increment: '0', result: '100.1' },
  { current: '185.3', increment: '0', result: '185.3' },
  { current: '99.99', increment: '0.01', result: '100' },
  { current: '1.1', increment: '2.2', result: '3.3' },
  { current: '0', increment: '3.14159', result: '3.14159' },
  { current: '5.5', increment: '-0.5', result: '5' },
  // The long double's rounding error shows through %.17Lf from about 1e3 on.
  { current: '1000.1', increment: '0', result: '1000.09999999999999998' },
  { current: '12345.678', increment: '0', result: '12345.67799999999999994' },
  { current: '1000000.1', increment: '0', result: '1000000.10000000000002274' },
  { current: '0', increment: '1234567.891', result: '1234567.89099999999996271' },
  { current: '1e20', increment: '1', result: '100000000000000000000' },
  { current: '123456789012345678901', increment: '0', result: '123456789012345678904' },
  { current: '1.7976931348623157e308', increment: '1.7976931348623157e308',
    result: '3595386269724631399918420935482088680967728938886583569706288415303532570462487' +
      '9270940373721677417112885758683885104137861741672690227211071579455605295523414699795' +
      '5372576789671236326588091188869859074894581254961338834769297758245552436667197907705' +
      '664206565009503223382416235440319971852753604933726679072768' },
  { current: null, increment: '1e4931',
    result: 'sha256:46b21ee182105649032b7a53e428575b942cc70683b8c6ef8392477eb3e11f81' },
  { current: '1', increment: '1e4932',
    result: 'sha256:754d16acb807875eba75298c60f224d7a029b9d04efbadf36cacaaa9b88f0745' },
  { current: '1.1e4932', increment: '0',
    result: 'prefix:1099999999999999999974373107528241817659' },
  // Hexadecimal floats are strtold syntax too.
  { current: '0x10', increment: '1', result: '17' },
  { current: '1.5', increment: '0x1p-1', result: '2' },
  // Range limits of the long double (strtold ERANGE means "not a valid float").
  { current: '0', increment: '1e-4940', result: '0' },
  { current: '3.65e-4951', increment: '0', result: '0' },
  { current: '1e-4951', increment: '0', result: NOT_FLOAT },
  { current: '0', increment: '1e-5000', result: NOT_FLOAT },
  { current: '1.19e4932', increment: '0', result: NOT_FLOAT },
  { current: '1e4933', increment: '0', result: NOT_FLOAT },
  { current: '-1.18e4932', increment: '-1e4931', result: NAN_OR_INFINITY },
  { current: '1', increment: 'inf', result: NAN_OR_INFINITY },
  { current: '1', increment: '-inf', result: NAN_OR_INFINITY },
  { current: '1', increment: 'Infinity', result: NAN_OR_INFINITY },
  { current: 'inf', increment: '1', result: NAN_OR_INFINITY },
  { current: '1', increment: 'nan', result: NOT_FLOAT },
  { current: '', increment: '1', result: NOT_FLOAT },
  { current: '1', increment: '', result: NOT_FLOAT },
  { current: ' 1', increment: '1', result: NOT_FLOAT },
  { current: '1 ', increment: '1', result: NOT_FLOAT },
  { current: '1e', increment: '0', result: NOT_FLOAT },
  { current: '1', increment: '.', result: NOT_FLOAT },
  { current: '1', increment: '1_000', result: NOT_FLOAT },
  { current: '1\0', increment: '1', result: NOT_FLOAT },
  { current: '\0', increment: '1', result: NOT_FLOAT },
  { current: '1', increment: '2\0', result: NOT_FLOAT },
];

function matches(result: string, expected: string): boolean {
  if (expected.startsWith('sha256:')) {
    return createHash('sha256').update(result).digest('hex') === expected.slice(7);
  }
  if (expected.startsWith('prefix:')) return result.startsWith(expected.slice(7));
  return result === expected;
}

for (const { current, increment, result, todo } of INCRBYFLOAT_CASES) {
  test(`INCRBYFLOAT ${JSON.stringify(current)} + ${JSON.stringify(increment)}`,
    todo === undefined ? {} : { todo }, () => {
      const actual = incrbyfloat(current, increment);
      assert.ok(matches(actual, result), `${actual.slice(0, 80)} (expected ${result})`);
    });
}


test('parseLongDouble: exact long double values', () => {
  // 0.1 rounds to the nearest 64-bit significand: 0xCCCCCCCCCCCCCCCD * 2^-67.
  assert.deepEqual(parseLongDouble(Buffer.from('0.1')),
    { negative: false, significand: 0xcccccccccccccccdn, exponent: -67 });
  assert.deepEqual(parseLongDouble(Buffer.from('-1')),
    { negative: true, significand: 1n << 63n, exponent: -63 });
  assert.deepEqual(parseLongDouble(Buffer.from('0x1p-1')),
    { negative: false, significand: 1n << 63n, exponent: -64 });
  for (const text of ['inf', 'INF', '+inf', '-inf', 'infinity', 'Infinity', '-INFINITY']) {
    assert.equal(parseLongDouble(Buffer.from(text)), 'inf', text);
  }
  for (const text of ['', 'nan', 'NaN', '-nan', 'infinit', 'inf ', 'e5', '--1', '1..2',
    '1e5.5', 'abc', '0x', `1${'0'.repeat(5200)}`]) {
    assert.equal(parseLongDouble(Buffer.from(text)), null, JSON.stringify(text.slice(0, 20)));
  }
});

test('addLongDoubles / formatLongDouble: -0 prints as 0, sums round to 64 bits', () => {
  const parse = (text: string): LongDouble => {
    const value = parseLongDouble(Buffer.from(text));
    assert.ok(value !== null && value !== 'inf');
    return value;
  };
  assert.equal(formatLongDouble(addLongDoubles(parse('-0'), parse('-0')) as LongDouble), '0');
  assert.equal(formatLongDouble(parse('-0.000000000000000001')), '0');
  const sum = addLongDoubles(parse('18446744073709551616'), parse('1'));
  assert.equal(formatLongDouble(sum as LongDouble), '18446744073709551616', '2^64 + 1');
  assert.equal(addLongDoubles(parse('1.18e4932'), parse('1.18e4932')), 'inf');
});

const INT32_CASES: Array<[string, number | string]> = [
  ['0', 0],
  ['2147483647', 2147483647],
  ['-2147483648', -2147483648],
  ['2147483648', 
    'ERR value is out of range, value must between -2147483648 and 2147483647'],
  ['abc', 'ERR value is not an integer or out of range'],
  ['9223372036854775808', 'ERR value is not an integer or out of range'],
];

for (const [text, expected] of INT32_CASES) {
  test(`parseInt32(${text})`, () => {
    assert.equal(parseInt32(Buffer.from(text)), expected);
  });
}
