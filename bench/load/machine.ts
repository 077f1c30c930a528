/**
 * What a benchmark number depends on besides the code: hardware, kernel, runtimes, the
 * reference server's version, and which RingKV revision ran. Recorded with every result.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type, version } from 'node:os';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly redisServer: string;
  readonly redisBenchmark: string;
  readonly ringkvRevision: string;
  /** 1, 5, 15 minute load averages when the run started: a busy machine explains noise. */
  readonly loadAverage: readonly number[];
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1] !== undefined) return match[1].trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return cpus()[0]?.model ?? 'unknown';
}

function commandOutput(command: string, args: readonly string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0 || typeof result.stdout !== 'string') return undefined;
  return result.stdout.trim();
}

function ringkvRevision(repositoryRoot: string): string {
  const commit = commandOutput('git', ['-C', repositoryRoot, 'rev-parse', '--short', 'HEAD']);
  if (commit === undefined) return 'unknown (not a git checkout)';
  // --no-optional-locks: never take index.lock, other people work in this checkout.
  const status = commandOutput('git',
    ['--no-optional-locks', '-C', repositoryRoot, 'status', '--porcelain', '--untracked-files=no']);
  if (status === undefined) return commit;
  return status === '' ? commit : `${commit} with uncommitted changes`;
}

export function describeMachine(repositoryRoot: string): Machine {
  const redisServer = commandOutput('redis-server', ['--version']) ?? 'not found';
  const redisBenchmark = commandOutput('redis-benchmark', ['--version']) ?? 'not found';
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: totalmem() / 1024 ** 3,
    kernel: `${type()} ${release()} ${version()}`,
    node: process.version,
    redisServer: /v=(\S+)/.exec(redisServer)?.[1] ?? redisServer,
    redisBenchmark: /redis-benchmark (\S+)/.exec(redisBenchmark)?.[1] ?? redisBenchmark,
    ringkvRevision: ringkvRevision(repositoryRoot),
    loadAverage: loadavg(),
  };
}

export function formatMachine(machine: Machine): string {
  return [
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores`,
    `- Memory: ${machine.memoryGiB.toFixed(1)} GiB`,
    `- Kernel: ${machine.kernel}`,
    `- Node: ${machine.node}`,
    `- redis-server: ${machine.redisServer}, redis-benchmark: ${machine.redisBenchmark}`,
    `- RingKV revision: ${machine.ringkvRevision}`,
    `- Load average at start (1/5/15 min): `
      + machine.loadAverage.map((load) => load.toFixed(2)).join(' / '),
  ].join('\n');
}
