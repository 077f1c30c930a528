/**
 * Request decoding: our RequestDecoder against redis-parser 3 (the decoder the project
 * started with, cf. node-redis-parser's benchmark/index.js) on identical pipelined buffers.
 * Both return argument Buffers (redis-parser with returnBuffers: true), and both consume
 * every complete request of the input per operation. Inputs are built once, here.
 */
import { createRequire } from 'node:module';
import { RequestDecoder } from '../../src/protocol/request-decoder.js';
import { runStandalone, sink, type MicroBenchmark } from './harness.js';

/** The part of redis-parser's API we use (the package ships no types). */
interface RedisParser {
  execute(buffer: Buffer): void;
}
interface RedisParserOptions {
  returnReply: (reply: unknown) => void;
  returnError: (error: Error) => void;
  returnFatalError?: (error: Error) => void;
  returnBuffers?: boolean;
}
type RedisParserConstructor = new (options: RedisParserOptions) => RedisParser;

const require = createRequire(import.meta.url);
const Parser = require('redis-parser') as RedisParserConstructor;

function encode(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const VALUE_100 = Buffer.alloc(100, 'v');
const SET_16 = Buffer.concat(Array.from({ length: 16 },
  (_, index) => encode(['SET', `key:${index}`, VALUE_100])));
const GET_16 = Buffer.concat(Array.from({ length: 16 },
  (_, index) => encode(['GET', `key:${index}`])));
const BIG_SET = encode(['SET', 'big', Buffer.alloc(1024 * 1024, 'b')]);
/** The same 1 MB request as a socket delivers it: 64 KiB chunks. */
const BIG_SET_CHUNKS: Buffer[] = [];
for (let offset = 0; offset < BIG_SET.length; offset += 64 * 1024) {
  BIG_SET_CHUNKS.push(BIG_SET.subarray(offset, offset + 64 * 1024));
}
const INLINE_16 = Buffer.from('PING\r\n'.repeat(16));

const decoder = new RequestDecoder({ bulkBytesMax: 512 * 1024 * 1024 });

/** Feeds the chunks and drains every complete request; returns the arguments seen. */
function decode(chunks: readonly Buffer[]): number {
  let count = 0;
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let args = decoder.next(); args !== null; args = decoder.next()) count += args.length;
  }
  return count;
}

let parsed = 0;
const parser = new Parser({
  returnReply: (reply) => {
    parsed += (reply as unknown[]).length;
  },
  returnError: (error) => {
    throw error;
  },
  returnBuffers: true,
});

function parse(chunks: readonly Buffer[]): number {
  parsed = 0;
  for (const chunk of chunks) parser.execute(chunk);
  return parsed;
}

function checked(expected: number, run: () => number): () => void {
  return () => {
    const seen = run();
    if (seen !== expected) throw new Error(`decoded ${seen} arguments, expected ${expected}`);
  };
}

interface Input {
  name: string;
  chunks: Buffer[];
  /** Arguments in the input: 3 per SET, 2 per GET, 1 per PING. */
  args: number;
}

const INPUTS: Input[] = [
  { name: '16 x SET key:n <100 B>', chunks: [SET_16], args: 48 },
  { name: '16 x GET key:n', chunks: [GET_16], args: 32 },
  { name: 'SET <1 MB> (one buffer)', chunks: [BIG_SET], args: 3 },
  { name: 'SET <1 MB> (64 KiB chunks)', chunks: BIG_SET_CHUNKS, args: 3 },
];

export const benchmarks: MicroBenchmark[] = [];
for (const input of INPUTS) {
  benchmarks.push({
    suite: 'decoder',
    name: `RequestDecoder: ${input.name}`,
    check: checked(input.args, () => decode(input.chunks)),
    fn: () => {
      sink.value += decode(input.chunks);
    },
  });
  benchmarks.push({
    suite: 'decoder',
    name: `redis-parser:   ${input.name}`,
    check: checked(input.args, () => parse(input.chunks)),
    fn: () => {
      sink.value += parse(input.chunks);
    },
  });
}
benchmarks.push({
  suite: 'decoder',
  name: 'RequestDecoder: 16 x inline PING (redis-parser cannot)',
  check: checked(16, () => decode([INLINE_16])),
  fn: () => {
    sink.value += decode([INLINE_16]);
  },
});

runStandalone(import.meta.url, benchmarks);
