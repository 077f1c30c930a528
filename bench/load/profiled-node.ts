/**
 * A RingKV node under `node --cpu-prof`. test/helpers/processes.ts cannot be used here:
 * startNode passes no Node flags, and --cpu-prof is not allowed in NODE_OPTIONS. V8 writes
 * the profile when the process exits normally, so the node is stopped with SIGINT (RingKV
 * shuts down cleanly and calls process.exit), never SIGKILL.
 */
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import { SERVER_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { MAIN_SCRIPT, temporaryDirectory } from '../../test/helpers/processes.js';
import { RespClient } from '../../test/helpers/resp-client.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { Cleanup } from './cleanup.js';

export interface ProfiledNode {
  readonly port: number;
  readonly pid: number | undefined;
  /** SIGINT, wait for exit, and return the path of the written .cpuprofile. */
  stop(): Promise<string>;
}

/** Writing a profile of a few minutes takes seconds; give it ample time before giving up. */
const EXIT_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 20_000;
/** Kept for error messages only; the server logs a line per lifecycle event. */
const OUTPUT_KEPT_BYTES = 16_384;

export interface ProfiledNodeOptions {
  /** A free port chosen by the caller (a cluster's seed list names it); one is found if not. */
  readonly port?: number;
  /** Server arguments after --port and --dir; a lone node with appendfsync everysec if not. */
  readonly args?: readonly string[];
}

export async function startProfiledNode(profileDirectory: string, cleanup: Cleanup,
    options: ProfiledNodeOptions = {}): Promise<ProfiledNode> {
  const port = options.port ?? await freePort();
  const serverArgs = options.args ?? ['--appendfsync', 'everysec'];
  const dataDirectory = temporaryDirectory('ringkv-bench');
  cleanup.defer('RingKV data directory', () => {
    rmSync(dataDirectory, { recursive: true, force: true });
  });
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--cpu-prof', '--cpu-prof-dir',
    profileDirectory, MAIN_SCRIPT, '--port', String(port), '--dir', dataDirectory, ...serverArgs],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // Both pipes must be drained, or the server blocks once the pipe buffer is full.
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
  });
  const stopChild = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    try {
      return await exit;
    } finally {
      clearTimeout(timer);
    }
  };
  const forget = cleanup.defer(`profiled RingKV (pid ${child.pid ?? '?'})`, async () => {
    await stopChild();
  });
  try {
    await waitUntilPong(port, () => child.exitCode !== null);
  } catch (error) {
    await stopChild();
    throw new Error(`profiled RingKV did not start: ${(error as Error).message}\n${output}`);
  }
  return {
    port,
    pid: child.pid,
    stop: async () => {
      const code = await stopChild();
      forget();
      // V8 names them CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile; the LMDB writer
      // thread writes its own: take the main thread's (thread 0).
      const profiles = readdirSync(profileDirectory)
        .filter((name) => name.endsWith('.cpuprofile')).sort();
      const profile = profiles.find((name) => name.split('.')[4] === '0') ?? profiles[0];
      if (profile === undefined) {
        throw new Error(`no .cpuprofile written (exit code ${code})\n${output}`);
      }
      return join(profileDirectory, profile);
    },
  };
}

async function waitUntilPong(port: number, exited: () => boolean): Promise<void> {
  await waitFor(`PONG on port ${port}`, async () => {
    if (exited()) throw new Error('exited before answering PING');
    let client: RespClient | undefined;
    try {
      client = await RespClient.connect(port);
      return await client.call('PING') === '+PONG\r\n' ? true : undefined;
    } catch {
      // Not listening yet: waitFor retries until its deadline.
      return undefined;
    } finally {
      client?.close();
    }
  }, START_TIMEOUT_MS, 25);
}
