/**
 * Server-wide counters INFO reports (stats, commandstats, errorstats). Plain fields,
 * incremented on the hot path without allocation.
 */
import type { CommandCounters, ServerStats } from '../commands/context.js';

export class Stats implements ServerStats {
  commandsProcessed = 0;
  connectionsReceived = 0;
  rejectedConnections = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  errorReplies = 0;
  readonly commandCounters = new Map<string, CommandCounters>();
  readonly errorCounts = new Map<string, number>();
  private readonly resetHooks: Array<() => void> = [];

  constructor(readonly startedMs: number) {}

  /** Counts one error reply by its prefix (errorstats). */
  recordError(prefix: string): void {
    this.errorReplies++;
    this.errorCounts.set(prefix, (this.errorCounts.get(prefix) ?? 0) + 1);
  }

  /** Registers state elsewhere that CONFIG RESETSTAT also clears. */
  onReset(hook: () => void): void {
    this.resetHooks.push(hook);
  }

  reset(): void {
    this.commandsProcessed = 0;
    this.connectionsReceived = 0;
    this.rejectedConnections = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.errorReplies = 0;
    this.commandCounters.clear();
    this.errorCounts.clear();
    for (const hook of this.resetHooks) hook();
  }
}
