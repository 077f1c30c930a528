/**
 * RequestDecoder: Redis 7.0's request framing (processMultibulkBuffer, processInlineBuffer)
 * with its exact protocol error strings (COMPAT.md B7), limits, and chunk independence.
 * Expected error texts were checked against redis-server 7.0.15 on loopback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInteger, RequestDecoder } from '../../src/protocol/request-decoder.js';
import { encodeMultibulk, referenceString2ll, splitAt } from './redis-reference.js';

const BULK_MAX = 512 * 1024 * 1024;

interface Decoded {
  requests: string[][];
  error: string | null;
}

/** Feeds the chunks in order, collecting every request the decoder yields. */
function decodeChunks(chunks: readonly Buffer[], authRequired = false,
    bulkBytesMax = BULK_MAX): Decoded {
  const decoder = new RequestDecoder({ bulkBytesMax });
  decoder.authRequired = authRequired;
  const requests: string[][] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let args = decoder.next(); args !== null; args = decoder.next()) {
      requests.push(args.map((arg) => arg.toString('latin1')));
    }
  }
  return { requests, error: decoder.error };
}

function decode(input: string | Buffer, authRequired = false, bulkBytesMax = BULK_MAX): Decoded {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  return decodeChunks([bytes], authRequired, bulkBytesMax);
}

interface Case {
  name: string;
  input: string;
  requests: string[][];
  error?: string;
  authRequired?: boolean;
  bulkBytesMax?: number;
  todo?: string;
}

const CASES: Case[] = [
  // Multibulk framing.
  { name: 'one command', input: '*1\r\n$4\r\nPING\r\n', requests: [['PING']] },
  { name: 'pipelined commands', input: '*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n',
    requests: [['PING'], ['ECHO', 'hi']] },
  { name: 'empty argument', input: '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n', requests: [['ECHO', '']] },
  { name: 'binary argument with CR LF inside', input: '*1\r\n$4\r\n\r\n\r\n\r\n',
    requests: [['\r\n\r\n']] },
  { name: '*0 is an empty request', input: '*0\r\n', requests: [[]] },
  { name: '*-1 is an empty request', input: '*-1\r\n', requests: [[]] },
  { name: '*-5 is an empty request', input: '*-5\r\n*1\r\n$1\r\nx\r\n', requests: [[], ['x']] },
  { name: 'trailing CRLF of a bulk is skipped, not checked (as Redis)',
    input: '*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n', requests: [['PING'], ['PING']] },
  { name: 'header CR followed by any byte ends the line (as Redis)',
    input: '*1\rX$4\rXPING\r\n', requests: [['PING']] },
  { name: 'incomplete header waits', input: '*1', requests: [] },
  // Redis finds a header's end with strchr: a NUL before the CR hides it, the line waits.
  { name: 'NUL inside a multibulk header: the line waits', input: '*1\x00\r\n$4\r\nPING\r\n',
    requests: [] },
  { name: 'NUL inside a bulk header: the line waits', input: '*1\r\n$4\x00\r\nPING\r\n',
    requests: [] },
  { name: 'NUL after 40 header bytes: the line waits',
    input: `*${'0'.repeat(40)}\x00\r\n`, requests: [] },
  { name: 'a header line of 41 bytes is read to its end',
    input: `*${'0'.repeat(40)}\r\n`, requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'header without LF yet waits', input: '*1\r', requests: [] },
  { name: 'incomplete bulk header waits', input: '*1\r\n$4', requests: [] },
  { name: 'incomplete bulk data waits', input: '*1\r\n$4\r\nPIN', requests: [] },
  { name: 'bulk data without its CRLF waits', input: '*1\r\n$4\r\nPING', requests: [] },
  { name: 'bulk data with half its CRLF waits', input: '*1\r\n$4\r\nPING\r', requests: [] },
  { name: 'missing arguments wait', input: '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n', requests: [] },
  { name: 'largest multibulk count (INT_MAX) is accepted and waits',
    input: '*2147483647\r\n$1\r\na\r\n', requests: [] },

  // Multibulk errors (COMPAT.md B7 and networking.c).
  { name: 'count over INT_MAX', input: '*2147483648\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count 3000000000', input: '*3000000000\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'empty count', input: '*\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count with plus sign', input: '*+1\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count with leading zero', input: '*01\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count -0', input: '*-0\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count with a space', input: '* 1\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count with trailing garbage', input: '*1x\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'count below INT64_MIN (20 characters)', input: '*-9223372036854775809\r\n*0\r\n',
    requests: [], error: 'Protocol error: invalid multibulk length' },
  { name: 'count of 21 characters', input: '*-99999999999999999999\r\n', requests: [],
    error: 'Protocol error: invalid multibulk length' },
  { name: 'expected $, got x', input: '*1\r\nx\r\n', requests: [],
    error: "Protocol error: expected '$', got 'x'" },
  { name: 'nested * inside a request', input: '*1\r\n*1\r\n$4\r\nPING\r\n', requests: [],
    error: "Protocol error: expected '$', got '*'" },
  { name: 'expected $, got CR shows a space', input: '*1\r\n\r\n', requests: [],
    error: "Protocol error: expected '$', got ' '" },
  { name: 'expected $, got LF shows a space', input: '*1\r\n\n\r\n', requests: [],
    error: "Protocol error: expected '$', got ' '" },
  { name: 'expected $ is only checked once the line is complete', input: '*1\r\nx',
    requests: [] },
  { name: 'bulk length over proto-max-bulk-len', input: '*1\r\n$600000000\r\n', requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length one over a small limit', input: '*1\r\n$1048577\r\n',
    bulkBytesMax: 1048576, requests: [], error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length equal to the limit waits for data', input: '*1\r\n$1048576\r\n',
    bulkBytesMax: 1048576, requests: [] },
  { name: 'negative bulk length', input: '*1\r\n$-1\r\n', requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'empty bulk length', input: '*1\r\n$\r\n', requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length with leading zero', input: '*1\r\n$04\r\nPING\r\n', requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length with plus sign', input: '*1\r\n$+4\r\nPING\r\n', requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'bulk length of 20 digits', input: '*1\r\n$99999999999999999999\r\n', requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'requests before an error are still returned',
    input: '*1\r\n$4\r\nPING\r\n*1\r\nx\r\n', requests: [['PING']],
    error: "Protocol error: expected '$', got 'x'" },

  // Unauthenticated limits (CVE-2021-32675).
  { name: 'unauthenticated: 10 arguments are fine',
    input: `*10\r\n${'$1\r\na\r\n'.repeat(10)}`, authRequired: true,
    requests: [Array.from({ length: 10 }, () => 'a')] },
  { name: 'unauthenticated: 11 arguments', input: '*11\r\n', authRequired: true,
    requests: [], error: 'Protocol error: unauthenticated multibulk length' },
  { name: 'unauthenticated: 1000000 arguments', input: '*1000000\r\n', authRequired: true,
    requests: [], error: 'Protocol error: unauthenticated multibulk length' },
  { name: 'unauthenticated: invalid count is reported first', input: '*3000000000\r\n',
    authRequired: true, requests: [], error: 'Protocol error: invalid multibulk length' },
  { name: 'unauthenticated: 16384-byte bulk is fine', input: '*2\r\n$4\r\nAUTH\r\n$16384\r\n',
    authRequired: true, requests: [] },
  { name: 'unauthenticated: 16385-byte bulk', input: '*2\r\n$16385\r\n', authRequired: true,
    requests: [], error: 'Protocol error: unauthenticated bulk length' },
  { name: 'unauthenticated: 20000-byte bulk', input: '*2\r\n$20000\r\n', authRequired: true,
    requests: [], error: 'Protocol error: unauthenticated bulk length' },
  { name: 'unauthenticated: invalid bulk length is reported first',
    input: '*1\r\n$600000000\r\n', authRequired: true, requests: [],
    error: 'Protocol error: invalid bulk length' },
  { name: 'authenticated: 11 arguments are fine',
    input: `*11\r\n${'$1\r\nb\r\n'.repeat(11)}`,
    requests: [Array.from({ length: 11 }, () => 'b')] },

  // Inline commands.
  { name: 'inline with CRLF', input: 'PING\r\n', requests: [['PING']] },
  { name: 'inline with LF only', input: 'PING\n', requests: [['PING']] },
  { name: 'inline with arguments', input: 'SET  key\tvalue \r\n',
    requests: [['SET', 'key', 'value']] },
  { name: 'inline quoted arguments', input: 'SET "a b" \'c d\' "\\x41\\n"\r\n',
    requests: [['SET', 'a b', 'c d', 'A\n']] },
  { name: 'empty inline lines give empty requests', input: '\r\n\n  \r\nPING\n',
    requests: [[], [], [], ['PING']] },
  { name: 'inline CR inside the line separates arguments', input: 'ECHO\rx\n',
    requests: [['ECHO', 'x']] },
  { name: 'inline waits for the newline', input: 'PING', requests: [] },
  { name: 'inline waits after a lone CR', input: 'PING\r', requests: [] },
  { name: 'inline then multibulk', input: 'PING\r\n*1\r\n$4\r\nPING\r\n',
    requests: [['PING'], ['PING']] },
  { name: 'unbalanced double quote', input: 'SET "a\r\n', requests: [],
    error: 'Protocol error: unbalanced quotes in request' },
  { name: 'unbalanced single quote', input: "SET 'a\r\n", requests: [],
    error: 'Protocol error: unbalanced quotes in request' },
  { name: 'closing quote followed by a letter', input: '"PING"x\r\n', requests: [],
    error: 'Protocol error: unbalanced quotes in request' },
  { name: 'quote inside a word', input: 'PI"NG\r\n', requests: [],
    error: 'Protocol error: unbalanced quotes in request' },
  { name: 'inline $ line is just a command name', input: '$4\r\n', requests: [['$4']] },
  { name: 'unauthenticated inline has no argument limit',
    input: `X${' a'.repeat(20)}\r\n`, authRequired: true,
    requests: [['X', ...Array.from({ length: 20 }, () => 'a')]] },
];

for (const testCase of CASES) {
  const options = testCase.todo === undefined ? {} : { todo: testCase.todo };
  test(`decoder: ${testCase.name}`, options, () => {
    const expected = { requests: testCase.requests, error: testCase.error ?? null };
    const input = Buffer.from(testCase.input, 'latin1');
    assert.deepEqual(decode(input, testCase.authRequired ?? false,
      testCase.bulkBytesMax ?? BULK_MAX), expected);
    // Chunk boundaries must not matter: byte by byte, and cut at every single position
    // (including between CR and LF).
    const bytes = [...input].map((byte) => Buffer.from([byte]));
    assert.deepEqual(decodeChunks(bytes, testCase.authRequired ?? false,
      testCase.bulkBytesMax ?? BULK_MAX), expected, 'byte by byte');
    for (let cut = 1; cut < input.length; cut++) {
      assert.deepEqual(decodeChunks(splitAt(input, [cut]), testCase.authRequired ?? false,
        testCase.bulkBytesMax ?? BULK_MAX), expected, `cut at ${cut}`);
    }
  });
}

test('decoder: the error byte after expected $ is shown as that one character', () => {
  for (const byte of [0x01, 0x7f, 0xe9, 0xff]) {
    const { error } = decode(Buffer.from([...Buffer.from('*1\r\n'), byte, 13, 10]));
    assert.equal(error, `Protocol error: expected '$', got '${String.fromCharCode(byte)}'`);
  }
});

test('decoder: too big inline request (no newline within 64 KiB)', () => {
  const limit = 64 * 1024;
  assert.deepEqual(decode('A'.repeat(limit)), { requests: [], error: null }, 'at the limit');
  assert.deepEqual(decode('A'.repeat(limit + 1)),
    { requests: [], error: 'Protocol error: too big inline request' }, 'limit + 1');
  const seventy = Buffer.alloc(70 * 1024, 'x');
  const chunks = splitAt(seventy, Array.from({ length: 70 }, (_, index) => index * 1024));
  assert.deepEqual(decodeChunks(chunks),
    { requests: [], error: 'Protocol error: too big inline request' }, '70 KB in 1 KB chunks');
});

test('decoder: too big mbulk count and bulk count strings', () => {
  const limit = 64 * 1024;
  assert.equal(decode(`*${'1'.repeat(limit - 1)}`).error, null, 'count line at the limit');
  assert.equal(decode(`*${'1'.repeat(limit)}`).error,
    'Protocol error: too big mbulk count string');
  assert.equal(decode(`*1\r\n$${'1'.repeat(limit - 1)}`).error, null, 'bulk line at limit');
  assert.equal(decode(`*1\r\n$${'1'.repeat(limit)}`).error,
    'Protocol error: too big bulk count string');
});

test('decoder: an error is sticky; later input is never decoded', () => {
  const decoder = new RequestDecoder({ bulkBytesMax: BULK_MAX });
  decoder.push(Buffer.from('*1\r\nx\r\n'));
  assert.equal(decoder.next(), null);
  assert.ok(decoder.error !== null);
  decoder.push(Buffer.from('*1\r\n$4\r\nPING\r\n'));
  assert.equal(decoder.next(), null);
});

test('decoder: authRequired can be lifted between requests (after AUTH)', () => {
  const decoder = new RequestDecoder({ bulkBytesMax: BULK_MAX });
  decoder.authRequired = true;
  decoder.push(encodeMultibulk([Buffer.from('AUTH'), Buffer.from('pw')]));
  assert.deepEqual(decoder.next()?.map(String), ['AUTH', 'pw']);
  decoder.authRequired = false;
  const big = Buffer.alloc(20000, 'v');
  decoder.push(encodeMultibulk([Buffer.from('SET'), Buffer.from('k'), big]));
  const args = decoder.next();
  assert.equal(decoder.error, null);
  assert.equal(args?.[2]?.length, 20000);
});

test('decoder: pipelined SETs of 100-byte values, every chunk size from 1 to 64', () => {
  const commands = Array.from({ length: 16 }, (_, index) =>
    [Buffer.from('SET'), Buffer.from(`key:${index}`), Buffer.alloc(100, 97 + index)]);
  const stream = Buffer.concat(commands.map(encodeMultibulk));
  const expected = commands.map((args) => args.map((arg) => arg.toString('latin1')));
  for (let size = 1; size <= 64; size++) {
    const cuts = Array.from({ length: Math.ceil(stream.length / size) }, (_, i) => i * size);
    assert.deepEqual(decodeChunks(splitAt(stream, cuts)), { requests: expected, error: null },
      `chunk size ${size}`);
  }
});

/** A value whose bytes depend on their position, so misplaced bytes show. */
function patterned(length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let index = 0; index < length; index++) bytes[index] = (index * 7 + (index >> 8)) & 0xff;
  return bytes;
}

test('decoder: big arguments (>= 32 KiB) arriving in many chunks', () => {
  for (const length of [32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 100_000, 1024 * 1024]) {
    const value = patterned(length);
    const stream = Buffer.concat([
      encodeMultibulk([Buffer.from('SET'), Buffer.from('big'), value]),
      encodeMultibulk([Buffer.from('GET'), Buffer.from('big')]),
    ]);
    for (const chunkSize of [1000, 4096, 16384, 65536]) {
      if (length === 1024 * 1024 && chunkSize < 4096) continue;
      const cuts = Array.from({ length: Math.ceil(stream.length / chunkSize) },
        (_, i) => i * chunkSize + 3);
      const decoder = new RequestDecoder({ bulkBytesMax: BULK_MAX });
      const requests: Buffer[][] = [];
      let fed = 0;
      for (const chunk of splitAt(stream, cuts)) {
        decoder.push(chunk);
        fed += chunk.length;
        for (let args = decoder.next(); args !== null; args = decoder.next()) requests.push(args);
        assert.ok(decoder.bufferedBytes <= fed, 'never more buffered than received');
      }
      assert.equal(decoder.error, null);
      assert.equal(requests.length, 2, `length ${length}, chunks of ${chunkSize}`);
      assert.ok(requests[0]?.[2]?.equals(value), `value intact (${length}/${chunkSize})`);
      assert.deepEqual(requests[1]?.map(String), ['GET', 'big']);
      assert.equal(decoder.bufferedBytes, 0);
    }
  }
});

test('decoder: a big argument split inside its trailing CRLF', () => {
  const value = patterned(40_000);
  const stream = encodeMultibulk([Buffer.from('SET'), Buffer.from('k'), value]);
  const crlfAt = stream.length - 2;
  for (const cuts of [[100, crlfAt], [100, crlfAt + 1], [crlfAt + 1], [50, 60, crlfAt]]) {
    const decoded = decodeChunks(splitAt(stream, cuts));
    assert.equal(decoded.requests.length, 1, `cuts ${cuts.join(',')}`);
    assert.equal(decoded.requests[0]?.[2], value.toString('latin1'));
  }
});

test('decoder: bufferedBytes counts unconsumed input', () => {
  const decoder = new RequestDecoder({ bulkBytesMax: BULK_MAX });
  assert.equal(decoder.bufferedBytes, 0);
  decoder.push(Buffer.from('*1\r\n$4\r\nPI'));
  assert.equal(decoder.next(), null);
  assert.ok(decoder.bufferedBytes > 0 && decoder.bufferedBytes <= 10);
  decoder.push(Buffer.from('NG\r\n'));
  assert.deepEqual(decoder.next()?.map(String), ['PING']);
  assert.equal(decoder.bufferedBytes, 0);
  decoder.push(Buffer.alloc(0));
  assert.equal(decoder.next(), null);
});

test('decoder: arguments are zero-copy views valid after more input arrives', () => {
  const decoder = new RequestDecoder({ bulkBytesMax: BULK_MAX });
  decoder.push(Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n*1\r\n$2\r\nx'));
  const first = decoder.next();
  decoder.push(Buffer.from('y\r\n'));
  const second = decoder.next();
  assert.deepEqual(first?.map(String), ['GET', 'abc']);
  assert.deepEqual(second?.map(String), ['xy']);
});

interface IntegerCase {
  text: string;
  /** The value for valid input (compared as a Number), null when invalid. */
  value: bigint | null;
  todo?: string;
}

const INTEGER_CASES: IntegerCase[] = [
  { text: '0', value: 0n },
  { text: '1', value: 1n },
  { text: '-1', value: -1n },
  { text: '10', value: 10n },
  { text: '123456789', value: 123456789n },
  { text: '', value: null },
  { text: '-', value: null },
  { text: '+1', value: null },
  { text: '+0', value: null },
  { text: '-0', value: null },
  { text: '00', value: null },
  { text: '01', value: null },
  { text: '-01', value: null },
  { text: ' 1', value: null },
  { text: '1 ', value: null },
  { text: '1a', value: null },
  { text: '0x10', value: null },
  { text: '1.0', value: null },
  { text: '1e3', value: null },
  { text: '--1', value: null },
  { text: '9007199254740993', value: 9007199254740993n },
  { text: '999999999999999999', value: 999999999999999999n },
  { text: '9223372036854775807', value: 9223372036854775807n },
  { text: '-9223372036854775808', value: -9223372036854775808n },
  { text: '1000000000000000000', value: 1000000000000000000n },
  { text: '9223372036854775808', value: null },
  { text: '-9223372036854775809', value: null },
  { text: '12345678901234567890', value: null },
  { text: '99999999999999999999', value: null },
  { text: '123456789012345678901', value: null },
  { text: '-99999999999999999999', value: null },
];

for (const { text, value, todo } of INTEGER_CASES) {
  test(`parseInteger(${JSON.stringify(text)})`, todo === undefined ? {} : { todo }, () => {
    // The table itself must agree with the string2ll model.
    assert.equal(referenceString2ll(text), value, 'reference agrees with the table');
    const buffer = Buffer.from(`[${text}]`, 'latin1');
    const parsed = parseInteger(buffer, 1, buffer.length - 1);
    if (value === null) {
      assert.ok(Number.isNaN(parsed), `${text} -> ${parsed}`);
    } else if (value <= BigInt(Number.MAX_SAFE_INTEGER) &&
        value >= BigInt(Number.MIN_SAFE_INTEGER)) {
      assert.equal(parsed, Number(value));
    } else {
      // Past 2^53 the result is only approximate, which is enough: callers compare it with
      // INT_MAX or proto-max-bulk-len, and parseInt64 uses it only below 16 characters.
      const expected = Number(value);
      assert.ok(Math.abs(parsed - expected) <= Math.abs(expected) * 1e-15, `${parsed}`);
    }
  });
}
