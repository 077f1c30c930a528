#!/usr/bin/env node
// npm run cluster: a local 3-node RingKV cluster on 127.0.0.1 (client ports 7001-7003, peer
// ports 17001-17003, data under ./data/cluster/<port>) in the foreground. Each node's log
// lines are prefixed with its port. Ctrl-C (or SIGTERM) stops all three cleanly.
// Extra arguments are passed to every node, e.g. `npm run cluster -- --replication-factor 2`.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SERVER_NODE_FLAGS } from '../dist/src/runtime/node-flags.js';

const root = new URL('..', import.meta.url).pathname;
const ports = [7001, 7002, 7003];
const extra = process.argv.slice(2);
const seeds = ports.map((port) => `127.0.0.1:${port}`).join(',');
const children = [];

function pretty(line) {
  try {
    const entry = JSON.parse(line);
    const { level, time, pid, msg, hostname, ...rest } = entry;
    const fields = Object.entries(rest).map(([key, value]) =>
      `${key}=${typeof value === 'object' ? JSON.stringify(value) : value}`).join(' ');
    const levelName = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[level];
    return `${new Date(time).toISOString().slice(11, 23)} ${levelName ?? level} ${msg} ${fields}`;
  } catch {
    return line;
  }
}

for (const port of ports) {
  const dir = join(root, 'data', 'cluster', String(port));
  mkdirSync(dir, { recursive: true });
  const main = join(root, 'dist', 'src', 'main.js');
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, main, '--port', String(port),
    '--dir', dir, '--cluster-seeds', seeds, '--cluster-secret', 'local-development-cluster',
    ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      process.stdout.write(`[${port}] ${pretty(line)}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`[${port}] exited (${signal ?? code})\n`);
    if (children.every((each) => each.exitCode !== null || each.signalCode !== null)) {
      process.exit(0);
    }
  });
  children.push(child);
}
process.stdout.write('RingKV cluster: redis-cli -c -p 7001 (Ctrl-C stops it)\n');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the cluster...\n');
    for (const child of children) child.kill('SIGTERM');
  });
}
