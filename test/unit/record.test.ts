/**
 * The record codec. The golden bytes below pin format 1 as it is on disk and on the wire:
 * if this test fails, existing data directories and mixed-version clusters break, so change
 * the format number instead of these bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import {
  compareRecordVersions,
  completeChecksum,
  encodeRecord,
  RECORD_FORMAT,
  RECORD_HEADER_BYTES,
  recordLooksValid,
  recordProblem,
  StoredRecord,
  ValueType,
  type RecordFields,
} from '../../src/storage/record.js';
import { AssertionError } from '../../src/util/assert.js';
import { compareVersions } from '../../src/versioning/version.js';

const GOLDEN_FIELDS: RecordFields = {
  version: { physicalMs: 0x0123456789ab, logical: 0xcdef, nodeTag: 0xdeadbeef },
  tombstone: false,
  type: ValueType.String,
  expireAtMs: 1700000000000,
  value: Buffer.from('hello'),
  fullKey: null,
};

/** Format 1, field by field (offsets in the comment of src/storage/record.ts). */
const GOLDEN_HEX = [
  '01', // format
  '6d4b3650', // CRC-32 of bytes 5..end
  '00', // flags
  '00', // value type: string
  '00', // reserved
  '0123456789ab', // physical ms, u48
  'cdef', // logical, u16
  'deadbeef', // node tag, u32
  '4278bcfe56800000', // expiry 1700000000000 as f64
  '68656c6c6f', // value "hello"
].join('');

const GOLDEN_TOMBSTONE_FIELDS: RecordFields = {
  version: { physicalMs: 1, logical: 2, nodeTag: 3 },
  tombstone: true,
  type: ValueType.String,
  expireAtMs: 0,
  value: Buffer.alloc(0),
  fullKey: Buffer.from('kk'),
};

const GOLDEN_TOMBSTONE_HEX = [
  '01', '0ba29f8e', '03', '00', '00', '000000000001', '0002', '00000003', '0000000000000000',
  '00000002', '6b6b', // full key: u32 length, bytes; then an empty value
].join('');

test('golden: format 1 bytes of a fixed record', () => {
  const bytes = encodeRecord(GOLDEN_FIELDS);
  assert.equal(bytes.toString('hex'), GOLDEN_HEX);
  assert.equal(bytes.readUInt32BE(1), crc32(bytes.subarray(5)), 'CRC covers bytes 5..end');
  assert.equal(RECORD_FORMAT, 1);
  assert.equal(RECORD_HEADER_BYTES, 28);
});

test('golden: a tombstone with a full key', () => {
  assert.equal(encodeRecord(GOLDEN_TOMBSTONE_FIELDS).toString('hex'), GOLDEN_TOMBSTONE_HEX);
});

test('golden: the pinned bytes decode to the pinned fields', () => {
  const record = StoredRecord.decode(Buffer.from(GOLDEN_HEX, 'hex'));
  assert.deepEqual(record.version, GOLDEN_FIELDS.version);
  assert.equal(record.tombstone, false);
  assert.equal(record.type, ValueType.String);
  assert.equal(record.expireAtMs, 1700000000000);
  assert.equal(record.fullKey, null);
  assert.equal(record.value.toString(), 'hello');
  const tombstone = StoredRecord.decode(Buffer.from(GOLDEN_TOMBSTONE_HEX, 'hex'));
  assert.equal(tombstone.tombstone, true);
  assert.equal(tombstone.fullKey?.toString(), 'kk');
  assert.equal(tombstone.value.length, 0);
});

const fieldsArbitrary: fc.Arbitrary<RecordFields> = fc.record({
  version: fc.record({
    physicalMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    logical: fc.integer({ min: 0, max: 0xffff }),
    nodeTag: fc.integer({ min: 0, max: 0xffffffff }),
  }).map((version) => ({ ...version })), // fc.record objects have a null prototype
  tombstone: fc.boolean(),
  type: fc.constant(ValueType.String),
  expireAtMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 52 }),
    fc.constant(Number.MAX_SAFE_INTEGER)),
  value: fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
  fullKey: fc.option(fc.uint8Array({ maxLength: 3000 }).map((array) => Buffer.from(array)),
    { nil: null }),
});

test('property: encode then decode returns every field', () => {
  fc.assert(fc.property(fieldsArbitrary, (fields) => {
    const bytes = encodeRecord(fields);
    assert.equal(recordProblem(bytes), null);
    assert.ok(recordLooksValid(bytes));
    const record = StoredRecord.decode(bytes);
    assert.deepEqual(record.version, fields.version);
    assert.equal(record.tombstone, fields.tombstone);
    assert.equal(record.type, fields.type);
    assert.equal(record.expireAtMs, fields.expireAtMs);
    assert.ok(record.value.equals(fields.value));
    if (fields.fullKey === null) assert.equal(record.fullKey, null);
    else assert.ok(record.fullKey?.equals(fields.fullKey));
    const copy = record.copy();
    bytes.fill(0);
    assert.ok(copy.value.equals(fields.value), 'copy() owns its bytes');
  }), { numRuns: 500 });
});

test('property: records order by their bytes as their versions do', () => {
  // Pairs that differ in one field only are common: the later fields must break ties.
  const pairs = fc.tuple(fieldsArbitrary, fieldsArbitrary, fc.integer({ min: 0, max: 3 }))
    .map(([a, b, shared]) => {
      const version = { ...b.version };
      if (shared >= 1) version.physicalMs = a.version.physicalMs;
      if (shared >= 2) version.logical = a.version.logical;
      if (shared >= 3) version.nodeTag = a.version.nodeTag;
      return [a, { ...b, version }] as const;
    });
  fc.assert(fc.property(pairs, ([a, b]) => {
    assert.equal(Math.sign(compareRecordVersions(encodeRecord(a), encodeRecord(b))),
      Math.sign(compareVersions(a.version, b.version)));
  }), { numRuns: 1000 });
});

test('recordProblem: every single-bit flip at every byte position is detected', () => {
  for (const fields of [GOLDEN_FIELDS, GOLDEN_TOMBSTONE_FIELDS]) {
    const bytes = encodeRecord(fields);
    for (let index = 0; index < bytes.length; index++) {
      for (let bit = 0; bit < 8; bit++) {
        const corrupt = Buffer.from(bytes);
        corrupt[index] = (corrupt[index] as number) ^ (1 << bit);
        assert.notEqual(recordProblem(corrupt), null, `byte ${index} bit ${bit}`);
        assert.throws(() => StoredRecord.decode(corrupt), AssertionError);
      }
    }
  }
});

test('recordProblem: a flipped byte in the format gives the format message', () => {
  const bytes = encodeRecord(GOLDEN_FIELDS);
  bytes[0] = 2;
  assert.equal(recordProblem(bytes), 'unknown record format 2');
  assert.ok(!recordLooksValid(bytes));
  bytes[0] = 1;
  bytes[10] = (bytes[10] as number) ^ 0xff;
  assert.equal(recordProblem(bytes), 'record checksum mismatch');
  assert.ok(recordLooksValid(bytes), 'the cheap check does not read the CRC');
});

test('recordProblem: truncation at every length', () => {
  const bytes = encodeRecord(GOLDEN_TOMBSTONE_FIELDS);
  for (let length = 0; length < bytes.length; length++) {
    const problem = recordProblem(bytes.subarray(0, length));
    assert.notEqual(problem, null, `truncated to ${length}`);
    if (length < RECORD_HEADER_BYTES) assert.equal(problem, 'record shorter than its header');
  }
  assert.equal(recordProblem(Buffer.alloc(0)), 'record shorter than its header');
});

/** A header with a valid CRC around an arbitrary tail (to reach the key-length checks). */
function withValidCrc(bytes: Buffer): Buffer {
  bytes.writeUInt32BE(crc32(bytes.subarray(5)), 1);
  return bytes;
}

test('recordProblem: full-key flag with a missing or overrunning key length', () => {
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  header[0] = RECORD_FORMAT;
  header[5] = 2; // full key stored
  assert.equal(recordProblem(withValidCrc(Buffer.from(header))), 'record key length missing');
  const overrun = Buffer.concat([header, Buffer.from([0, 0, 0, 5]), Buffer.from('abcd')]);
  assert.equal(recordProblem(withValidCrc(overrun)), 'record key overruns it');
  const exact = Buffer.concat([header, Buffer.from([0, 0, 0, 4]), Buffer.from('abcd')]);
  assert.equal(recordProblem(withValidCrc(exact)), null);
  assert.equal(StoredRecord.decode(exact).fullKey?.toString(), 'abcd');
  assert.equal(StoredRecord.decode(exact).value.length, 0);
});

test('fullKey: a value that looks like a key length is not read as one without the flag', () => {
  const fields = { ...GOLDEN_FIELDS, value: Buffer.from([0, 0, 0, 2, 0x6b, 0x6b]) };
  const record = StoredRecord.decode(encodeRecord(fields));
  assert.equal(record.fullKey, null);
  assert.deepEqual([...record.value], [0, 0, 0, 2, 0x6b, 0x6b]);
});

test('fullKey: an empty full key and a long one round-trip', () => {
  for (const key of [Buffer.alloc(0), Buffer.alloc(70000, 'k')]) {
    const record = StoredRecord.decode(encodeRecord({ ...GOLDEN_FIELDS, fullKey: key }));
    assert.ok(record.fullKey?.equals(key));
    assert.equal(record.value.toString(), 'hello');
  }
});

interface LiveCase {
  tombstone: boolean;
  expireAtMs: number;
  nowMs: number;
  live: boolean;
}

const LIVE_CASES: LiveCase[] = [
  { tombstone: false, expireAtMs: 0, nowMs: 5, live: true },
  { tombstone: true, expireAtMs: 0, nowMs: 5, live: false },
  { tombstone: false, expireAtMs: 6, nowMs: 5, live: true },
  { tombstone: false, expireAtMs: 5, nowMs: 5, live: false },
  { tombstone: false, expireAtMs: 4, nowMs: 5, live: false },
  { tombstone: true, expireAtMs: 10, nowMs: 5, live: false },
];

for (const { tombstone, expireAtMs, nowMs, live } of LIVE_CASES) {
  test(`isLive: tombstone=${tombstone} expireAt=${expireAtMs} now=${nowMs}`, () => {
    const record = StoredRecord.decode(encodeRecord({ ...GOLDEN_FIELDS, tombstone, expireAtMs }));
    assert.equal(record.isLive(nowMs), live);
  });
}

test('checksum pending: golden bytes, refused unless allowed, completed to the golden record',
  () => {
    const pending = encodeRecord(GOLDEN_FIELDS, false);
    // Flag bit 2 set and the CRC left zero; every other byte as in the golden record.
    assert.equal(pending.toString('hex'), `01000000000400${GOLDEN_HEX.slice(14)}`);
    assert.ok(recordLooksValid(pending));
    assert.equal(recordProblem(pending), 'record checksum pending');
    assert.equal(recordProblem(pending, true), null);
    completeChecksum(pending);
    assert.equal(pending.toString('hex'), GOLDEN_HEX);
    completeChecksum(pending);
    assert.equal(pending.toString('hex'), GOLDEN_HEX, 'a complete record is left alone');
  });

test('property: a record with its checksum pending reads the same and completes exactly', () => {
  fc.assert(fc.property(fieldsArbitrary, (fields) => {
    const complete = encodeRecord(fields);
    const pending = encodeRecord(fields, false);
    const record = new StoredRecord(pending);
    assert.deepEqual(record.version, fields.version);
    assert.equal(record.tombstone, fields.tombstone);
    assert.equal(record.expireAtMs, fields.expireAtMs);
    assert.deepEqual(record.fullKey, fields.fullKey);
    assert.deepEqual(record.value, fields.value);
    assert.equal(compareRecordVersions(pending, complete), 0);
    completeChecksum(pending);
    assert.deepEqual(pending, complete);
  }));
});

test('completeChecksum leaves bytes that are not a record alone', () => {
  for (const bytes of [Buffer.alloc(0), Buffer.alloc(27, 0xff), Buffer.alloc(40, 0x04)]) {
    const before = Buffer.from(bytes);
    completeChecksum(bytes);
    assert.deepEqual(bytes, before);
  }
});
