/**
 * splitArgs (sdssplitargs) on inline commands and redis.conf lines: the zero-copy path for
 * lines without quotes, and the general path for quoted lines with escapes.
 */
import { splitArgs } from '../../src/util/split-args.js';
import { runStandalone, sink, type MicroBenchmark } from './harness.js';

interface LineInput {
  name: string;
  line: Buffer;
}

const INPUTS: LineInput[] = [
  { name: "plain 'PING'", line: Buffer.from('PING') },
  { name: 'plain SET with a 100 B value', line: Buffer.from(`SET key:123 ${'v'.repeat(100)}`) },
  { name: 'quoted SET with escapes',
    line: Buffer.from('SET "key with spaces" "a\\x41\\n\\"b\\""') },
  { name: 'redis.conf line: save 900 1', line: Buffer.from('save 900 1') },
  { name: "redis.conf line: requirepass 'p a s s'", line: Buffer.from("requirepass 'p a s s'") },
];

export const benchmarks: MicroBenchmark[] = INPUTS.map((input) => ({
  suite: 'split-args',
  name: input.name,
  fn: () => {
    sink.value += splitArgs(input.line)?.length ?? 0;
  },
}));

runStandalone(import.meta.url, benchmarks);
