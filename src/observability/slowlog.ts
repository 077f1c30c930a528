/**
 * SLOWLOG: the most recent commands that ran longer than slowlog-log-slower-than, bounded
 * by slowlog-max-len, with secrets (AUTH and HELLO ... AUTH passwords) redacted.
 */
import type { SlowLog as SlowLogService, SlowLogEntry } from '../commands/context.js';
import type { Client } from '../commands/spec.js';
import { SLOWLOG_ARG_BYTES_MAX, SLOWLOG_ARGS_MAX } from '../config/limits.js';

export interface SlowLogSettings {
  thresholdUs: number;
  maxLength: number;
}

export class SlowLog implements SlowLogService {
  private readonly recorded: SlowLogEntry[] = [];
  private nextId = 0;

  constructor(private readonly settings: SlowLogSettings, private readonly nowMs: () => number) {}

  get thresholdUs(): number {
    return this.settings.thresholdUs;
  }

  get length(): number {
    return this.recorded.length;
  }

  record(client: Client, args: readonly Buffer[], durationUs: number): void {
    if (this.settings.maxLength <= 0) return;
    this.recorded.unshift({
      id: this.nextId++,
      unixSeconds: Math.floor(this.nowMs() / 1000),
      durationUs,
      args: slowlogArgs(args, redactedPositions(args)),
      peer: client.remoteAddress,
      clientName: client.name,
    });
    if (this.recorded.length > this.settings.maxLength) {
      this.recorded.length = this.settings.maxLength;
    }
  }

  entries(count: number): readonly SlowLogEntry[] {
    return this.recorded.slice(0, count);
  }

  reset(): void {
    this.recorded.length = 0;
  }
}

/** Argument positions holding secrets: AUTH's, HELLO ... AUTH user pass, CONFIG SET requirepass. */
function redactedPositions(args: readonly Buffer[]): Set<number> {
  const name = (args[0] as Buffer).toString().toLowerCase();
  const positions = new Set<number>();
  if (name === 'auth') {
    for (let index = 1; index < args.length; index++) positions.add(index);
  } else if (name === 'hello') {
    for (let index = 1; index < args.length; index++) {
      if ((args[index] as Buffer).toString().toLowerCase() === 'auth') {
        positions.add(index + 1);
        positions.add(index + 2);
      }
    }
  } else if (name === 'config' && args.length > 2 &&
      (args[1] as Buffer).toString().toLowerCase() === 'set') {
    for (let index = 2; index + 1 < args.length; index += 2) {
      if ((args[index] as Buffer).toString().toLowerCase() === 'requirepass') {
        positions.add(index + 1);
      }
    }
  }
  return positions;
}

/** Arguments as the slow log keeps them: at most 32, each at most 128 bytes (as Redis). */
function slowlogArgs(args: readonly Buffer[], redacted: ReadonlySet<number>): Buffer[] {
  const kept: Buffer[] = [];
  const shown = Math.min(args.length, SLOWLOG_ARGS_MAX);
  for (let index = 0; index < shown; index++) {
    if (shown !== args.length && index === shown - 1) {
      kept.push(Buffer.from(`... (${args.length - shown + 1} more arguments)`));
      break;
    }
    const arg = args[index] as Buffer;
    if (redacted.has(index)) {
      kept.push(Buffer.from('(redacted)'));
    } else if (arg.length > SLOWLOG_ARG_BYTES_MAX) {
      kept.push(Buffer.concat([arg.subarray(0, SLOWLOG_ARG_BYTES_MAX),
        Buffer.from(`... (${arg.length - SLOWLOG_ARG_BYTES_MAX} more bytes)`)]));
    } else {
      kept.push(Buffer.from(arg));
    }
  }
  return kept;
}

