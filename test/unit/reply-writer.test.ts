/**
 * ReplyWriter: RESP2 and RESP3 shapes (as redis-server 7.0.15 sends them), %.17g doubles,
 * slab handling (take / discard, big values by reference) and error accounting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDouble, ReplyWriter, type Protocol } from '../../src/protocol/reply-writer.js';
import { isSeventeenDigitTie, referenceFormatG17 } from './redis-reference.js';

function bytesOf(writer: ReplyWriter): string {
  return Buffer.concat(writer.take() ?? []).toString('latin1');
}

function written(protocol: Protocol, write: (writer: ReplyWriter) => void): string {
  const writer = new ReplyWriter();
  writer.protocol = protocol;
  write(writer);
  return bytesOf(writer);
}

interface ShapeCase {
  name: string;
  write: (writer: ReplyWriter) => void;
  resp2: string;
  resp3: string;
}

const SHAPES: ShapeCase[] = [
  { name: 'ok', write: (w) => w.ok(), resp2: '+OK\r\n', resp3: '+OK\r\n' },
  { name: 'pong', write: (w) => w.pong(), resp2: '+PONG\r\n', resp3: '+PONG\r\n' },
  { name: 'simple', write: (w) => w.simple('QUEUED'), resp2: '+QUEUED\r\n', resp3: '+QUEUED\r\n' },
  { name: 'nil', write: (w) => w.nil(), resp2: '$-1\r\n', resp3: '_\r\n' },
  { name: 'nilArray', write: (w) => w.nilArray(), resp2: '*-1\r\n', resp3: '_\r\n' },
  { name: 'empty array', write: (w) => w.arrayHeader(0), resp2: '*0\r\n', resp3: '*0\r\n' },
  { name: 'array of bulks', write: (w) => {
    w.arrayHeader(2);
    w.bulkString('a');
    w.bulkString('');
  }, resp2: '*2\r\n$1\r\na\r\n$0\r\n\r\n', resp3: '*2\r\n$1\r\na\r\n$0\r\n\r\n' },
  { name: 'map', write: (w) => {
    w.mapHeader(2);
    w.bulkString('proto');
    w.integer(3);
    w.bulkString('modules');
    w.arrayHeader(0);
  }, resp2: '*4\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n',
  resp3: '%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n' },
  { name: 'empty map', write: (w) => w.mapHeader(0), resp2: '*0\r\n', resp3: '%0\r\n' },
  { name: 'set', write: (w) => {
    w.setHeader(1);
    w.bulkString('m');
  }, resp2: '*1\r\n$1\r\nm\r\n', resp3: '~1\r\n$1\r\nm\r\n' },
  { name: 'empty set', write: (w) => w.setHeader(0), resp2: '*0\r\n', resp3: '~0\r\n' },
  { name: 'true', write: (w) => w.boolean(true), resp2: ':1\r\n', resp3: '#t\r\n' },
  { name: 'false', write: (w) => w.boolean(false), resp2: ':0\r\n', resp3: '#f\r\n' },
  { name: 'double 1.5', write: (w) => w.double(1.5), resp2: '$3\r\n1.5\r\n', resp3: ',1.5\r\n' },
  { name: 'double 0.1', write: (w) => w.double(0.1),
    resp2: '$19\r\n0.10000000000000001\r\n', resp3: ',0.10000000000000001\r\n' },
  { name: 'double inf', write: (w) => w.double(Infinity), resp2: '$3\r\ninf\r\n',
    resp3: ',inf\r\n' },
  { name: 'double -inf', write: (w) => w.double(-Infinity), resp2: '$4\r\n-inf\r\n',
    resp3: ',-inf\r\n' },
  { name: 'double nan', write: (w) => w.double(NaN), resp2: '$3\r\nnan\r\n', resp3: ',nan\r\n' },
  { name: 'verbatim', write: (w) => w.verbatim('# Server\r\nx:1'),
    resp2: '$13\r\n# Server\r\nx:1\r\n', resp3: '=17\r\ntxt:# Server\r\nx:1\r\n' },
  { name: 'verbatim utf8 length in bytes', write: (w) => w.verbatim('é'),
    resp2: '$2\r\n\xc3\xa9\r\n', resp3: '=6\r\ntxt:\xc3\xa9\r\n' },
  { name: 'integer 0', write: (w) => w.integer(0), resp2: ':0\r\n', resp3: ':0\r\n' },
  { name: 'integer 1', write: (w) => w.integer(1), resp2: ':1\r\n', resp3: ':1\r\n' },
  { name: 'integer -0', write: (w) => w.integer(-0), resp2: ':0\r\n', resp3: ':0\r\n' },
  { name: 'integer -1', write: (w) => w.integer(-1), resp2: ':-1\r\n', resp3: ':-1\r\n' },
  { name: 'integer 10', write: (w) => w.integer(10), resp2: ':10\r\n', resp3: ':10\r\n' },
  { name: 'integer 1000000', write: (w) => w.integer(1000000), resp2: ':1000000\r\n',
    resp3: ':1000000\r\n' },
  { name: 'integer max safe', write: (w) => w.integer(Number.MAX_SAFE_INTEGER),
    resp2: ':9007199254740991\r\n', resp3: ':9007199254740991\r\n' },
  { name: 'integer min safe', write: (w) => w.integer(Number.MIN_SAFE_INTEGER),
    resp2: ':-9007199254740991\r\n', resp3: ':-9007199254740991\r\n' },
  { name: 'integer 2^60 as a number', write: (w) => w.integer(2 ** 60),
    resp2: ':1152921504606846976\r\n', resp3: ':1152921504606846976\r\n' },
  { name: 'bigint INT64_MAX', write: (w) => w.integer(9223372036854775807n),
    resp2: ':9223372036854775807\r\n', resp3: ':9223372036854775807\r\n' },
  { name: 'bigint INT64_MIN', write: (w) => w.integer(-9223372036854775808n),
    resp2: ':-9223372036854775808\r\n', resp3: ':-9223372036854775808\r\n' },
  { name: 'bigint 0', write: (w) => w.integer(0n), resp2: ':0\r\n', resp3: ':0\r\n' },
  { name: 'bulk 1023 bytes (pre-encoded header)', write: (w) => w.bulk(Buffer.alloc(1023, 'x')),
    resp2: `$1023\r\n${'x'.repeat(1023)}\r\n`, resp3: `$1023\r\n${'x'.repeat(1023)}\r\n` },
  { name: 'bulk 1024 bytes (computed header)', write: (w) => w.bulk(Buffer.alloc(1024, 'y')),
    resp2: `$1024\r\n${'y'.repeat(1024)}\r\n`, resp3: `$1024\r\n${'y'.repeat(1024)}\r\n` },
  { name: 'bulk string utf8', write: (w) => w.bulkString('ü'), resp2: '$2\r\n\xc3\xbc\r\n',
    resp3: '$2\r\n\xc3\xbc\r\n' },
  { name: 'error', write: (w) => w.error('ERR syntax error'), resp2: '-ERR syntax error\r\n',
    resp3: '-ERR syntax error\r\n' },
];

for (const shape of SHAPES) {
  test(`reply shape: ${shape.name}`, () => {
    assert.equal(written(2, shape.write), shape.resp2, 'RESP2');
    assert.equal(written(3, shape.write), shape.resp3, 'RESP3');
  });
}

test('error: CR and LF become spaces; onError gets the prefix', () => {
  const prefixes: string[] = [];
  const writer = new ReplyWriter();
  writer.onError = (prefix) => prefixes.push(prefix);
  writer.error('ERR bad\r\nthing');
  writer.error('WRONGTYPE Operation against a key holding the wrong kind of value');
  writer.error('NOAUTH');
  writer.error('ERR\nx');
  assert.equal(bytesOf(writer), '-ERR bad  thing\r\n' +
    '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n' +
    '-NOAUTH\r\n-ERR x\r\n');
  assert.deepEqual(prefixes, ['ERR', 'WRONGTYPE', 'NOAUTH', 'ERR']);
  assert.equal(writer.errorsWritten, 4);
});

test('error: counted even without an onError hook, and by discard-independent counters', () => {
  const writer = new ReplyWriter();
  writer.error('ERR one');
  writer.discard();
  assert.equal(writer.errorsWritten, 1);
  assert.equal(writer.take(), null);
});

test('big values (>= 16 KiB) leave as chunks of their own, not through the slab', () => {
  const big = Buffer.alloc(16 * 1024, 'b');
  const small = Buffer.alloc(16 * 1024 - 1, 's');
  const writer = new ReplyWriter();
  writer.bulk(small);
  writer.bulk(big);
  writer.raw(big);
  // bulk() copies a big value into its own buffer: values may be views of buffers their
  // owner reuses (lmdb-js reads). raw() hands over the caller's bytes by reference.
  big.fill('X', 0, 1);
  const chunks = writer.take() ?? [];
  assert.equal(chunks.filter((chunk) => chunk === big).length, 1, 'raw() by reference');
  assert.ok(chunks.some((chunk) => chunk !== big && chunk.length === big.length &&
    chunk.buffer !== big.buffer), 'bulk() value in a chunk of its own');
  assert.ok(!chunks.includes(small), 'small value copied into the slab');
  assert.equal(Buffer.concat(chunks).toString('latin1'),
    `$16383\r\n${'s'.repeat(16383)}\r\n$16384\r\n${'b'.repeat(16384)}\r\n` +
    `X${'b'.repeat(16383)}`);
});

test('take(): null when empty, then only what was written since the last take', () => {
  const writer = new ReplyWriter();
  assert.equal(writer.take(), null);
  assert.ok(writer.isEmpty);
  writer.ok();
  assert.equal(writer.length, 5);
  assert.ok(!writer.isEmpty);
  const first = writer.take();
  assert.equal(Buffer.concat(first ?? []).toString(), '+OK\r\n');
  assert.equal(writer.take(), null);
  assert.equal(writer.length, 0);
  writer.integer(42);
  assert.equal(bytesOf(writer), ':42\r\n');
});

test('take(): handed-out slices are never overwritten by later writes', () => {
  const writer = new ReplyWriter(64);
  writer.bulkString('first');
  const first = writer.take() ?? [];
  const snapshot = Buffer.concat(first).toString();
  for (let index = 0; index < 100; index++) writer.bulkString(`later-${index}`);
  writer.discard();
  for (let index = 0; index < 100; index++) writer.integer(index);
  assert.equal(Buffer.concat(first).toString(), snapshot);
});

test('discard(): drops everything since the last take, including big values', () => {
  const writer = new ReplyWriter(64);
  writer.ok();
  writer.take();
  writer.bulk(Buffer.alloc(20000));
  writer.arrayHeader(3);
  for (let index = 0; index < 50; index++) writer.bulkString('filler filler filler');
  writer.discard();
  assert.equal(writer.length, 0);
  assert.equal(writer.take(), null);
  writer.error('ERR replaced');
  assert.equal(bytesOf(writer), '-ERR replaced\r\n');
});

test('append(): moves another writer\'s pending output, in order', () => {
  const slot = new ReplyWriter(32);
  slot.bulkString('x'.repeat(100));
  slot.bulk(Buffer.alloc(20000, 'z'));
  const main = new ReplyWriter();
  main.ok();
  main.append(slot);
  main.pong();
  assert.equal(slot.take(), null);
  assert.equal(bytesOf(main),
    `+OK\r\n$100\r\n${'x'.repeat(100)}\r\n$20000\r\n${'z'.repeat(20000)}\r\n+PONG\r\n`);
  main.append(new ReplyWriter());
  assert.equal(main.take(), null);
});

test('a small first slab grows: long text, many replies and big headers all fit', () => {
  const writer = new ReplyWriter(8);
  writer.simple('a'.repeat(100));
  // Error texts are latin1 (a character per byte): 0xE9 goes out as the single byte 0xE9.
  writer.error(`ERR ${'\xe9'.repeat(50)}`);
  const bytes = Buffer.concat(writer.take() ?? []);
  assert.deepEqual(bytes, Buffer.from(`+${'a'.repeat(100)}\r\n-ERR ${'\xe9'.repeat(50)}\r\n`,
    'latin1'));
});

/** One writer operation and the bytes it must produce (a model of the encoder). */
type Operation =
  | { kind: 'bulk'; value: Uint8Array }
  | { kind: 'integer'; value: number }
  | { kind: 'bigint'; value: bigint }
  | { kind: 'array'; count: number }
  | { kind: 'simple'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'nil' }
  | { kind: 'double'; value: number }
  | { kind: 'take' }
  | { kind: 'discard' };

function expectedBytes(operation: Operation, protocol: Protocol): Buffer {
  switch (operation.kind) {
    case 'bulk':
      return Buffer.concat([Buffer.from(`$${operation.value.length}\r\n`),
        Buffer.from(operation.value), Buffer.from('\r\n')]);
    case 'integer':
      return Buffer.from(`:${BigInt(operation.value)}\r\n`);
    case 'bigint':
      return Buffer.from(`:${operation.value}\r\n`);
    case 'array':
      return Buffer.from(`*${operation.count}\r\n`);
    case 'simple':
      return Buffer.from(`+${operation.text}\r\n`, 'latin1');
    case 'error':
      return Buffer.from(`-${operation.text.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1');
    case 'nil':
      return Buffer.from(protocol === 3 ? '_\r\n' : '$-1\r\n');
    case 'double': {
      const text = referenceFormatG17(operation.value);
      return Buffer.from(protocol === 3 ? `,${text}\r\n` : `$${text.length}\r\n${text}\r\n`);
    }
    case 'take':
    case 'discard':
      return Buffer.alloc(0);
  }
}

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((value): Operation => ({ kind: 'bulk', value })),
  fc.integer({ min: 16000, max: 40000 }).map((length): Operation =>
    ({ kind: 'bulk', value: new Uint8Array(length).fill(length & 0xff) })),
  fc.oneof(fc.integer(), fc.maxSafeInteger()).map((value): Operation =>
    ({ kind: 'integer', value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value): Operation =>
    ({ kind: 'bigint', value })),
  fc.nat({ max: 100000 }).map((count): Operation => ({ kind: 'array', count })),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 })
    .filter((text) => !/[\r\n]/.test(text))
    .map((text): Operation => ({ kind: 'simple', text })),
  fc.string({ maxLength: 100 }).map((text): Operation => ({ kind: 'error', text: `ERR ${text}` })),
  fc.constant<Operation>({ kind: 'nil' }),
  fc.double().filter((value) => !isSeventeenDigitTie(value))
    .map((value): Operation => ({ kind: 'double', value })),
  fc.constant<Operation>({ kind: 'take' }),
  fc.constant<Operation>({ kind: 'discard' }),
);

test('property: any sequence of writes, takes and discards yields the model bytes', () => {
  fc.assert(fc.property(fc.array(operation, { maxLength: 60 }), fc.constantFrom<Protocol>(2, 3),
    fc.integer({ min: 1, max: 4096 }), (operations, protocol, slabBytes) => {
      const writer = new ReplyWriter(slabBytes);
      writer.protocol = protocol;
      const output: Buffer[] = [];
      const expected: Buffer[] = [];
      let pending: Buffer[] = [];
      for (const op of operations) {
        switch (op.kind) {
          case 'take':
            output.push(...(writer.take() ?? []));
            expected.push(...pending);
            pending = [];
            continue;
          case 'discard':
            writer.discard();
            pending = [];
            continue;
          case 'bulk': writer.bulk(Buffer.from(op.value)); break;
          case 'integer': writer.integer(op.value); break;
          case 'bigint': writer.integer(op.value); break;
          case 'array': writer.arrayHeader(op.count); break;
          case 'simple': writer.simple(op.text); break;
          case 'error': writer.error(op.text); break;
          case 'nil': writer.nil(); break;
          case 'double': writer.double(op.value); break;
        }
        pending.push(expectedBytes(op, protocol));
        assert.equal(writer.length, Buffer.concat(pending).length, 'length tracks writes');
      }
      output.push(...(writer.take() ?? []));
      expected.push(...pending);
      assert.ok(Buffer.concat(output).equals(Buffer.concat(expected)));
    }), { numRuns: 300 });
});

/** printf("%.17g") outputs from glibc (gcc on x86_64), for the same decimal literals. */
const G17: Array<[string, string]> = [
  ['0', '0'],
  ['-0', '-0'],
  ['1', '1'],
  ['-1', '-1'],
  ['0.1', '0.10000000000000001'],
  ['0.30000000000000004', '0.30000000000000004'],
  ['0.3333333333333333', '0.33333333333333331'],
  ['0.6666666666666666', '0.66666666666666663'],
  ['1e16', '10000000000000000'],
  ['1e17', '1e+17'],
  ['12345678901234567890', '1.2345678901234567e+19'],
  ['0.0001', '0.0001'],
  ['0.00001', '1.0000000000000001e-05'],
  ['0.0001234', '0.00012339999999999999'],
  ['123.456', '123.456'],
  ['5e-324', '4.9406564584124654e-324'],
  ['1.7976931348623157e308', '1.7976931348623157e+308'],
  ['2.2250738585072014e-308', '2.2250738585072014e-308'],
  ['1.5', '1.5'],
  ['100', '100'],
  ['1e21', '1e+21'],
  ['9007199254740993', '9007199254740992'],
  ['1234567890123456.75', '1234567890123456.8'],
  ['0.5', '0.5'],
  ['2.5', '2.5'],
  ['1e100', '1e+100'],
  ['-1.5e-10', '-1.5e-10'],
  ['3.14', '3.1400000000000001'],
  ['99999999999999999', '1e+17'],
  ['9.9999999999999984e16', '99999999999999984'],
  ['1e15', '1000000000000000'],
  ['123456789012345680', '1.2345678901234568e+17'],
  ['-123.25', '-123.25'],
  ['4503599627370497.5', '4503599627370498'],
  ['1e-7', '9.9999999999999995e-08'],
  ['0.000099999999999999991', '9.9999999999999991e-05'],
  ['7.0e-17', '7.0000000000000003e-17'],
  ['10.6', '10.6'],
  ['1e22', '1e+22'],
  ['1e23', '9.9999999999999992e+22'],
  ['3.0517578125e-05', '3.0517578125e-05'],
  ['5.9604644775390625e-08', '5.9604644775390625e-08'],
  ['1125899906842624.125', '1125899906842624'],
];

/** Exact ties at the 17th digit: glibc rounds half to even. */
const G17_TIES: Array<[string, string]> = [
  ['1234567890123456.25', '1234567890123456.2'],
  ['2.98023223876953125e-8', '2.9802322387695312e-08'],
];

for (const [literal, expected] of G17) {
  test(`formatDouble(${literal}) is %.17g`, () => {
    assert.equal(referenceFormatG17(Number(literal)), expected, 'reference model');
    assert.equal(formatDouble(Number(literal)), expected);
  });
}

for (const [literal, expected] of G17_TIES) {
  test(`formatDouble(${literal}) breaks an exact tie like %.17g`, () => {
    assert.equal(referenceFormatG17(Number(literal)), expected, 'reference model');
    assert.equal(formatDouble(Number(literal)), expected);
  });
}

test('property: formatDouble equals %.17g for any double that is not an exact tie', () => {
  fc.assert(fc.property(fc.double(), (value) => {
    fc.pre(!isSeventeenDigitTie(value));
    assert.equal(formatDouble(value), referenceFormatG17(value));
  }), { numRuns: 5000 });
});
