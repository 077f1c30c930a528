/**
 * Runs the `ringkv-server` command (bin/ringkv-server.js) with arguments exactly as a user
 * would type them: a config file first, flags in any order, a password, a working
 * directory, environment variables. `startNode` (processes.ts) always puts --port and --dir
 * first and probes with an unauthenticated PING, so it cannot start these.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SERVER_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { REPOSITORY_ROOT, type ServerProcess } from './processes.js';
import { RespClient, encodeCommand } from './resp-client.js';
import { waitFor } from './wait.js';

export const SERVER_COMMAND = join(REPOSITORY_ROOT, 'bin', 'ringkv-server.js');

export interface ServerCommandOptions {
  /** The client port the arguments select (the command line or config file sets it). */
  port: number;
  /** The data directory the arguments select; removed by `cleanup` when given. */
  dir?: string;
  /** requirepass, if the arguments set one: the readiness probe authenticates first. */
  password?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts `ringkv-server ...argv` and waits until it answers PING. */
export async function startServerCommand(argv: readonly string[],
    options: ServerCommandOptions): Promise<ServerProcess> {
  const server = spawnServerCommand(argv, options);
  try {
    await waitFor(`PONG on port ${options.port}`, async () => {
      if (server.process.exitCode !== null) {
        throw new Error(`exited with code ${server.process.exitCode}`);
      }
      return await answersPing(options.port, options.password) ? true : undefined;
    }, 20_000, 25);
  } catch (error) {
    await server.stop();
    throw new Error(`ringkv-server did not start: ${(error as Error).message}\n` +
      server.output());
  }
  return server;
}

/** Runs `ringkv-server ...argv`, expecting it to exit by itself (bad configuration). */
export async function runServerCommandToExit(argv: readonly string[],
    options: Omit<ServerCommandOptions, 'port'> = {}, timeoutMs = 15_000):
    Promise<{ code: number | null; output: string }> {
  const server = spawnServerCommand(argv, { port: 0, ...options });
  try {
    const code = await server.exited(timeoutMs);
    return { code, output: server.output() };
  } finally {
    await server.stop();
  }
}

async function answersPing(port: number, password: string | undefined): Promise<boolean> {
  let client: RespClient | undefined;
  try {
    client = await RespClient.connect(port);
    if (password !== undefined) client.write(encodeCommand(['AUTH', password]));
    client.send('PING');
    const replies = await client.replies(password === undefined ? 1 : 2, 1000);
    return replies.at(-1)?.toString() === '+PONG\r\n';
  } catch {
    return false;
  } finally {
    client?.close();
  }
}

function spawnServerCommand(argv: readonly string[], options: ServerCommandOptions):
    ServerProcess {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, SERVER_COMMAND, ...argv], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let exitCode: number | null | undefined;
  const exitPromise = new Promise<number | null>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal === null ? null : -1);
      resolveExit(exitCode);
    });
  });
  const exited = async (timeoutMs = 15_000): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit`)),
        timeoutMs);
    });
    try {
      return await Promise.race([exitPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    port: options.port,
    dir: options.dir ?? '',
    process: child,
    output: () => output,
    signal: (name) => {
      if (exitCode === undefined) child.kill(name);
    },
    exited,
    stop: async () => {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      try {
        return await exited();
      } catch {
        child.kill('SIGKILL');
        return await exited();
      }
    },
    // The caller owns the directories it passes; nothing to remove here.
    cleanup: () => undefined,
  };
}
