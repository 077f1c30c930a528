/**
 * Text shared by the load benchmarks' reports: the command line that produced a result, and
 * prose wrapped to the repository's 100 columns for bench/RESULTS.md.
 */
import { relative } from 'node:path';
import { REPOSITORY_ROOT } from '../../test/helpers/processes.js';

/** `node dist/bench/load/X.js --flags`, as typed from the repository root. */
export function commandLine(defaultScript: string): string {
  const script = relative(REPOSITORY_ROOT, process.argv[1] ?? defaultScript);
  const quote = (arg: string): string => (/^[\w./,=:-]+$/.test(arg) ? arg : `'${arg}'`);
  return ['node', script, ...process.argv.slice(2)].map(quote).join(' ');
}

/** Prose in RESULTS.md keeps to the repository's 100 columns; tables cannot wrap. */
export function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines.join('\n');
}
