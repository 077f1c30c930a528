#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner, files in
// parallel (each in its own process). Usage: node scripts/run-tests.js [substring ...]
// to run only the files whose path contains one of the substrings.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const files = collect(testRoot)
  .filter((file) => filters.length === 0 || filters.some((part) => file.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('no test files found under dist/test (did tsc run?)');
  process.exit(1);
}
// Multi-process tests mostly wait on I/O; two files per core keeps two cores busy.
const concurrency = Math.max(2, availableParallelism() * 2);
console.log(`running ${files.length} test files, ${concurrency} at a time`);
const result = spawnSync(process.execPath, [
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=300000',
  ...files.map((file) => relative(process.cwd(), file)),
], { stdio: 'inherit' });
process.exit(result.status ?? 1);
