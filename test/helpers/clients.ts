/**
 * Client-side helpers for integration tests: ioredis connections that fail fast instead of
 * reconnecting (a test should see a server problem, not mask it), running the redis-cli and
 * redis-benchmark binaries with a deadline, and parsing INFO text.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/** ioredis options; replies keep the default ("legacy") shapes under both protocols. */
export type IoredisOptions = Omit<RedisOptions, 'replyMapping'>;

/** An ioredis client that keeps the connection errors it reported. */
export type TestRedis = Redis & { errors: Error[] };

/**
 * Connects an ioredis client and resolves once it is ready (handshake and INFO ready check
 * done). No reconnects and no offline queue: a dropped connection fails the test's commands
 * at once. Errors are recorded rather than printed as "Unhandled error event".
 */
export async function connectIoredis(port: number, options: IoredisOptions = {}):
    Promise<TestRedis> {
  const settings: IoredisOptions = {
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    ...options,
  };
  const client = new Redis(settings) as TestRedis;
  client.errors = [];
  client.on('error', (error: Error) => client.errors.push(error));
  await client.connect();
  return client;
}

/** Closes ioredis clients without waiting for replies; ignores ones already closed. */
export function disconnectAll(clients: ReadonlyArray<Redis | undefined>): void {
  for (const client of clients) client?.disconnect();
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  /** Written to the tool's standard input, which is then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Runs a program to completion and returns its exit status and output. Standard input is a
 * pipe (closed after `input`), so redis-cli sees a non-interactive terminal.
 */
export async function runTool(command: string, args: readonly string[],
    options: ToolOptions = {}): Promise<ToolResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // A tool that exits before reading all its input makes the pipe fail; that is its exit
  // status's business, not an exception in the test process.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return await new Promise<ToolResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${timeoutMs} ms\n` +
        `stdout: ${Buffer.concat(stdout).toString()}\nstderr: ${Buffer.concat(stderr)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
      });
    });
  });
}

/** `field:value` lines of an INFO reply (section headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Section titles (`# Server` gives `Server`) of an INFO reply, in order. */
export function infoSections(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.startsWith('# '))
    .map((line) => line.slice(2).trim());
}

/** A field of INFO that must be present; fails with the whole reply otherwise. */
export function infoField(info: Map<string, string>, field: string): string {
  const value = info.get(field);
  if (value === undefined) throw new Error(`INFO has no field ${field}`);
  return value;
}

/** A plain TCP connection (for tests that must control reading, e.g. slow readers). */
export async function rawSocket(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  return socket;
}

/**
 * Asserts two byte strings are equal without dumping them: a wrong 10 MB value would
 * otherwise flood the test report. Shows the lengths and the first differing offset.
 */
export function assertSameBytes(actual: Buffer | null | undefined, expected: Buffer,
    what: string): void {
  if (actual === null || actual === undefined) {
    throw new Error(`${what}: expected ${expected.length} bytes, got ${String(actual)}`);
  }
  if (actual.equals(expected)) return;
  let offset = 0;
  while (offset < actual.length && offset < expected.length &&
    actual[offset] === expected[offset]) offset++;
  const excerpt = (bytes: Buffer): string => bytes.subarray(offset, offset + 16).toString('hex');
  throw new Error(`${what}: expected ${expected.length} bytes, got ${actual.length}; ` +
    `first difference at offset ${offset} (expected ${excerpt(expected)}, ` +
    `got ${excerpt(actual)})`);
}
