/**
 * Real server processes for integration tests: RingKV nodes (the built dist/src/main.js)
 * and reference redis-server instances, each on a free port with a fresh temporary
 * directory. Every test must stop what it started (use `after`/`finally`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { freePort } from './ports.js';
import { RespClient } from './resp-client.js';
import { waitFor } from './wait.js';

const here = dirname(fileURLToPath(import.meta.url));
/** dist/test/helpers -> repository root */
export const REPOSITORY_ROOT = resolve(here, '..', '..', '..');
export const MAIN_SCRIPT = join(REPOSITORY_ROOT, 'dist', 'src', 'main.js');

export interface ServerProcess {
  readonly port: number;
  readonly dir: string;
  readonly process: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** Sends a signal without waiting (SIGKILL, SIGSTOP, SIGCONT). */
  signal(name: NodeJS.Signals): void;
  /** Waits for the process to exit; returns its exit code. */
  exited(timeoutMs?: number): Promise<number | null>;
  /** Removes the temporary directory (after stop). */
  cleanup(): void;
}

export function temporaryDirectory(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

function track(child: ChildProcess, port: number, dir: string, ownsDir: boolean): ServerProcess {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let exitCode: number | null | undefined;
  /** Whether the test asked the process to stop or sent it a signal. */
  let signalled = false;
  const exitPromise = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal === null ? null : -1);
      // A server that dies by itself fails its test far from the cause: show why here
      // (exit code 0 without a signal from the test is SHUTDOWN, which tests send).
      if (!signalled && code !== 0) {
        process.stderr.write(`server on port ${port} exited by itself (code ${code}, signal ` +
          `${signal}); its last output:\n${output.slice(-4000)}\n`);
      }
      resolveExit(exitCode);
    });
  });
  const exited = async (timeoutMs = 15_000): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit`)), timeoutMs);
    });
    try {
      return await Promise.race([exitPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    port,
    dir,
    process: child,
    output: () => output,
    signal: (name) => {
      signalled = true;
      if (exitCode === undefined) child.kill(name);
    },
    exited,
    stop: async () => {
      if (exitCode !== undefined) return exitCode;
      signalled = true;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      try {
        return await exited();
      } catch {
        child.kill('SIGKILL');
        return await exited();
      }
    },
    cleanup: () => {
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface NodeOptions {
  /** Extra redis-server-style arguments (`--appendfsync always`, ...). */
  args?: string[];
  /** Reuse a data directory (restart tests); a fresh one otherwise. */
  dir?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** Where the readiness probe connects (the node's bind address); 127.0.0.1 by default. */
  host?: string;
  /**
   * A command that runs the node, e.g. `['ip', 'netns', 'exec', 'ns1']`. It must exec the
   * node in place (same pid), so signals reach the node itself.
   */
  launcher?: readonly string[];
}

/** Starts a RingKV node and waits until it answers PING (data loaded). */
export async function startNode(options: NodeOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? await freePort();
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? temporaryDirectory('ringkv-test');
  const command = [...(options.launcher ?? []), process.execPath, ...SERVER_NODE_FLAGS,
    MAIN_SCRIPT, '--port', String(port), '--dir', dir, ...(options.args ?? [])];
  const child = spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = track(child, port, dir, ownsDir);
  try {
    await waitUntilServing(server, options.host);
  } catch (error) {
    await server.stop();
    throw new Error(`RingKV did not start: ${(error as Error).message}\n${server.output()}`);
  }
  return server;
}

/** Starts a reference redis-server (no persistence unless asked) on a free port. */
export async function startRedis(args: string[] = []): Promise<ServerProcess> {
  return startServing('redis-server', 'redis-ref', (port, dir) => ['--port', String(port),
    '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args]);
}

/**
 * Starts a Node.js script that serves RESP on `--port` (a free one) and answers PING; the
 * benchmarks' reference servers (bench/load/floor-server.ts).
 */
export async function startScript(script: string, args: string[] = []): Promise<ServerProcess> {
  return startServing(process.execPath, 'ringkv-script',
    (port) => [script, '--port', String(port), ...args]);
}

/** Spawns `command` on a free port and a fresh directory; resolves once it answers PING. */
async function startServing(command: string, prefix: string,
    argsFor: (port: number, dir: string) => string[]): Promise<ServerProcess> {
  const port = await freePort();
  const dir = temporaryDirectory(prefix);
  const args = argsFor(port, dir);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = track(child, port, dir, true);
  try {
    await waitUntilServing(server);
  } catch (error) {
    await server.stop();
    const name = command === process.execPath ? args[0] : command;
    throw new Error(`${name} did not start: ${(error as Error).message}\n${server.output()}`);
  }
  return server;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

async function waitUntilServing(server: ServerProcess, host = '127.0.0.1'): Promise<void> {
  await waitFor(`PONG on port ${server.port}`, async () => {
    if (server.process.exitCode !== null) {
      throw new Error(`exited with code ${server.process.exitCode}`);
    }
    let client: RespClient | undefined;
    try {
      client = await RespClient.connect(server.port, host);
      const reply = await client.call('PING');
      return reply === '+PONG\r\n' ? true : undefined;
    } catch {
      return undefined;
    } finally {
      client?.close();
    }
  }, 20_000, 25);
}
