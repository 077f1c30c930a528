/**
 * bench/RESULTS.md keeps the newest run of each benchmark in its own section, delimited by
 * HTML comment markers so a run can replace its section without touching the others and
 * without depending on how the section's headings are worded.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const FILE_HEADER = `# Benchmark results

The newest recorded run of each benchmark in \`bench/\` (see bench/README.md). A run with
\`--write\` replaces its own section, delimited by \`<!-- bench:NAME:begin/end -->\` markers.
Each section keeps the command and the machine with the numbers: compare results only when
both match.
`;

function markers(name: string): { begin: string; end: string } {
  return { begin: `<!-- bench:${name}:begin -->`, end: `<!-- bench:${name}:end -->` };
}

/** Replaces the named section, or appends it when the file has none yet. */
export function replaceSection(text: string, name: string, body: string): string {
  const { begin, end } = markers(name);
  const section = `${begin}\n${body.trimEnd()}\n${end}`;
  const start = text.indexOf(begin);
  if (start < 0) return `${text.trimEnd()}\n\n${section}\n`;
  const stop = text.indexOf(end, start);
  if (stop < 0) throw new Error(`results file: '${begin}' has no matching '${end}'`);
  return text.slice(0, start) + section + text.slice(stop + end.length);
}

export function writeSection(path: string, name: string, body: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : FILE_HEADER;
  // Write then rename: an interrupted write must not truncate the other sections.
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, replaceSection(text, name, body));
  renameSync(temporary, path);
}
