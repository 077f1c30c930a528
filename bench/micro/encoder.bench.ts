/**
 * Reply encoding with ReplyWriter: one operation writes a batch of replies, as one input
 * chunk of a pipeline would, then takes the bytes for the socket write.
 */
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { runStandalone, sink, type MicroBenchmark } from './harness.js';

const VALUE_100 = Buffer.alloc(100, 'v');
const BIG_VALUE = Buffer.alloc(64 * 1024, 'b');
const FIELDS = Array.from({ length: 8 }, (_, index) => Buffer.from(`field:${index}`));

const resp2 = new ReplyWriter();
const resp3 = new ReplyWriter();
resp3.protocol = 3;

function drain(writer: ReplyWriter): void {
  const chunks = writer.take();
  sink.value += chunks === null ? 0 : chunks.length;
}

export const benchmarks: MicroBenchmark[] = [
  {
    suite: 'encoder',
    name: '16 x bulk <100 B> + take',
    fn: () => {
      for (let index = 0; index < 16; index++) resp2.bulk(VALUE_100);
      drain(resp2);
    },
  },
  {
    suite: 'encoder',
    name: '16 x +OK + take',
    fn: () => {
      for (let index = 0; index < 16; index++) resp2.ok();
      drain(resp2);
    },
  },
  {
    suite: 'encoder',
    name: '16 x integer (1..2^40) + take',
    fn: () => {
      for (let index = 0; index < 16; index++) resp2.integer(index * 68719476736 + 12345);
      drain(resp2);
    },
  },
  {
    suite: 'encoder',
    name: 'array of 16 bulks <100 B> + take',
    fn: () => {
      resp2.arrayHeader(16);
      for (let index = 0; index < 16; index++) resp2.bulk(VALUE_100);
      drain(resp2);
    },
  },
  {
    suite: 'encoder',
    name: 'RESP3 map of 8 pairs (bulk -> integer) + take',
    fn: () => {
      resp3.mapHeader(8);
      for (const field of FIELDS) {
        resp3.bulk(field);
        resp3.integer(field.length);
      }
      drain(resp3);
    },
  },
  {
    suite: 'encoder',
    name: 'RESP2 flat map of 8 pairs + take',
    fn: () => {
      resp2.mapHeader(8);
      for (const field of FIELDS) {
        resp2.bulk(field);
        resp2.integer(field.length);
      }
      drain(resp2);
    },
  },
  {
    suite: 'encoder',
    name: 'RESP3 double 0.1 (%.17g) + take',
    fn: () => {
      resp3.double(0.1);
      drain(resp3);
    },
  },
  {
    suite: 'encoder',
    name: 'bulk <64 KiB> (own chunk, copied) + take',
    fn: () => {
      resp2.bulk(BIG_VALUE);
      drain(resp2);
    },
  },
];

runStandalone(import.meta.url, benchmarks);
