/**
 * A Jepsen-style history of client operations for fault tests: every operation is recorded
 * when invoked and again when it completes as ok, fail (definitely not applied: the server
 * refused it) or info (unknown: a timeout or a dropped connection, it may or may not have
 * been applied). Checkers (checkers.ts) read the history; it can be written as JSONL to keep
 * a failing run.
 */
import { writeFileSync } from 'node:fs';

export type OperationKind = 'write' | 'read' | 'incr';
export type Outcome = 'ok' | 'fail' | 'info';

export interface Operation {
  index: number;
  process: number;
  kind: OperationKind;
  key: string;
  /** The value written, or read (null: key missing), or the counter after an INCR. */
  value: string | null;
  invokedMs: number;
  completedMs: number | null;
  outcome: Outcome | null;
  error: string | null;
}

export class History {
  readonly operations: Operation[] = [];
  private readonly started = performance.now();

  invoke(process: number, kind: OperationKind, key: string, value: string | null = null):
      Operation {
    const operation: Operation = {
      index: this.operations.length, process, kind, key, value,
      invokedMs: performance.now() - this.started, completedMs: null, outcome: null,
      error: null,
    };
    this.operations.push(operation);
    return operation;
  }

  complete(operation: Operation, outcome: Outcome, value?: string | null, error?: string): void {
    operation.completedMs = performance.now() - this.started;
    operation.outcome = outcome;
    if (value !== undefined) operation.value = value;
    if (error !== undefined) operation.error = error;
  }

  /**
   * Runs one client call and records it: a Redis error reply is `fail` unless it says the
   * outcome is unknown (a quorum that timed out may have been written); anything else
   * thrown (connection closed, client timeout) is `info`.
   */
  async record<T>(process: number, kind: OperationKind, key: string, value: string | null,
      call: () => Promise<T>, result: (reply: T) => string | null): Promise<T | undefined> {
    const operation = this.invoke(process, kind, key, value);
    try {
      const reply = await call();
      this.complete(operation, 'ok', kind === 'write' ? value : result(reply));
      return reply;
    } catch (error) {
      const message = (error as Error).message;
      const definite = /^(ERR|WRONGTYPE|NOAUTH|CLUSTERDOWN read quorum not reached:)/.test(message)
        && !message.includes('timed out');
      this.complete(operation, definite ? 'fail' : 'info', undefined, message);
      return undefined;
    }
  }

  counts(): Record<Outcome | 'pending', number> {
    const counts = { ok: 0, fail: 0, info: 0, pending: 0 };
    for (const operation of this.operations) counts[operation.outcome ?? 'pending']++;
    return counts;
  }

  writeJsonl(path: string): void {
    writeFileSync(path, this.operations.map((operation) => JSON.stringify(operation))
      .join('\n'));
  }
}
