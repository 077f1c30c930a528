/**
 * Runs every micro-benchmark in bench/micro and prints a Markdown table of medians.
 *
 *   node dist/bench/micro/run.js [--rounds N] [filter words...]
 *
 * Rounds are interleaved (every benchmark once, then again) so that load from other
 * processes on a shared machine spreads over all of them; the table shows the median of
 * the rounds and how far they spread. Compare numbers only from the same machine and Node.
 */
import { benchmarks as decoder } from './decoder.bench.js';
import { benchmarks as encoder } from './encoder.bench.js';
import { benchmarks as glob } from './glob.bench.js';
import { commandLine, machine, runAll, select, table, type Summary } from './harness.js';
import { benchmarks as record } from './record.bench.js';
import { benchmarks as splitArgs } from './split-args.bench.js';

const ALL = [...decoder, ...encoder, ...record, ...glob, ...splitArgs];

/** "RequestDecoder: X" against "redis-parser: X": how many times faster ours is. */
function decoderRatios(summaries: readonly Summary[]): string[] {
  const lines: string[] = [];
  for (const ours of summaries) {
    const match = /^RequestDecoder: (.*)$/.exec(ours.name);
    if (match === null) continue;
    const name = `redis-parser:   ${match[1]}`;
    const theirs = summaries.find((row) => row.name === name);
    if (theirs === undefined) continue;
    lines.push(`- ${match[1]}: RequestDecoder ${(ours.opsPerSecond / theirs.opsPerSecond)
      .toFixed(2)} x redis-parser`);
  }
  return lines;
}

const { rounds, filters } = commandLine(process.argv.slice(2));
const chosen = select(ALL, filters);
console.log(`# Micro-benchmarks (${chosen.length} benchmarks, ${rounds} rounds)\n`);
console.log(`${machine()}\n`);
const started = Date.now();
const summaries = runAll(chosen, rounds, (line) => process.stderr.write(`${line}\n`));
console.log(table(summaries));
const ratios = decoderRatios(summaries);
if (ratios.length > 0) {
  console.log(`\nDecoder vs redis-parser (median ops/s):\n${ratios.join('\n')}`);
}
console.log(`\nTook ${((Date.now() - started) / 1000).toFixed(0)} s.`);
