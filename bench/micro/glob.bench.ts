/**
 * Glob matching as KEYS / SCAN MATCH / CONFIG GET use it, including a pattern that makes a
 * naive backtracking matcher exponential (CVE-2022-36021).
 */
import { globMatch } from '../../src/util/glob.js';
import { runStandalone, sink, type MicroBenchmark } from './harness.js';

interface GlobInput {
  name: string;
  pattern: Buffer;
  subject: Buffer;
  nocase?: boolean;
}

const INPUTS: GlobInput[] = [
  { name: "'user:*' vs 'user:1000:name'", pattern: Buffer.from('user:*'),
    subject: Buffer.from('user:1000:name') },
  { name: "'user:*:name' vs 'user:1000:email' (miss)", pattern: Buffer.from('user:*:name'),
    subject: Buffer.from('user:1000:email') },
  { name: "'*[0-9]?x*' vs 100 B", pattern: Buffer.from('*[0-9]?x*'),
    subject: Buffer.from(`${'k'.repeat(96)}7zx!`) },
  { name: "nocase 'MAX*' vs 'maxclients' (CONFIG GET)", pattern: Buffer.from('MAX*'),
    subject: Buffer.from('maxclients'), nocase: true },
  { name: "'a*a*a*a*a*a*a*a*b' vs 1 KB of 'a'", pattern: Buffer.from('a*a*a*a*a*a*a*a*b'),
    subject: Buffer.alloc(1024, 'a') },
];

export const benchmarks: MicroBenchmark[] = INPUTS.map((input) => ({
  suite: 'glob',
  name: input.name,
  fn: () => {
    if (globMatch(input.pattern, input.subject, input.nocase ?? false)) sink.value++;
  },
}));

runStandalone(import.meta.url, benchmarks);
