/**
 * The record codec: encode on every write, the cheap structural check plus value read on
 * every GET, and the full CRC check done where records cross a trust boundary.
 */
import {
  encodeRecord,
  recordLooksValid,
  StoredRecord,
  ValueType,
  type RecordFields,
} from '../../src/storage/record.js';
import { runStandalone, sink, type MicroBenchmark } from './harness.js';

function fields(valueBytes: number): RecordFields {
  return {
    version: { physicalMs: 1_795_000_000_000, logical: 3, nodeTag: 0xdeadbeef },
    tombstone: false,
    type: ValueType.String,
    expireAtMs: 0,
    value: Buffer.alloc(valueBytes, 'v'),
    fullKey: null,
  };
}

const SMALL = fields(100);
const LARGE = fields(16 * 1024);
const SMALL_BYTES = encodeRecord(SMALL);
const LARGE_BYTES = encodeRecord(LARGE);

export const benchmarks: MicroBenchmark[] = [
  {
    suite: 'record',
    name: 'encode <100 B value>',
    fn: () => {
      sink.value += encodeRecord(SMALL).length;
    },
  },
  {
    suite: 'record',
    name: 'encode <16 KiB value>',
    fn: () => {
      sink.value += encodeRecord(LARGE).length;
    },
  },
  {
    suite: 'record',
    name: 'GET path: recordLooksValid + value <100 B>',
    fn: () => {
      if (recordLooksValid(SMALL_BYTES)) sink.value += new StoredRecord(SMALL_BYTES).value.length;
    },
  },
  {
    suite: 'record',
    name: 'decode with CRC + version + value <100 B>',
    fn: () => {
      const record = StoredRecord.decode(SMALL_BYTES);
      sink.value += record.value.length + record.version.logical;
    },
  },
  {
    suite: 'record',
    name: 'decode with CRC <16 KiB value>',
    fn: () => {
      sink.value += StoredRecord.decode(LARGE_BYTES).value.length;
    },
  },
];

runStandalone(import.meta.url, benchmarks);
