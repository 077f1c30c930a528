/**
 * The server-wide services command handlers use, each behind a narrow interface so the
 * commands layer depends on no concrete I/O (STYLE.md section 2). main.ts builds them.
 */
import type { Consistency } from '../coordinator/consistency.js';
import type { KeyValueService } from '../coordinator/key-value-service.js';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';
import type { LatencyHistogram } from '../util/latency-histogram.js';
import type { ClusterService } from './cluster.js';
import type { Client, CommandSpec } from './spec.js';

export interface ServerContext {
  readonly kv: KeyValueService;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly config: ConfigService;
  readonly clients: ClientRegistry;
  readonly stats: ServerStats;
  readonly info: InfoService;
  readonly slowlog: SlowLog;
  readonly persistence: PersistenceService;
  readonly auth: AuthService;
  readonly commands: CommandTable;
  readonly identity: ServerIdentity;
  /** The consistency a new connection starts with (server default, or its user's). */
  defaultConsistency(user?: string): Consistency;
  /** The replication factor N that consistency levels are resolved against. */
  replicationFactor(): number;
  /** The cluster, or null for a standalone node (CLUSTER answers "disabled"). */
  readonly cluster: ClusterService | null;
}

export interface ServerIdentity {
  /** The Redis version we report (the Redis 7 command set we implement). */
  readonly redisVersion: string;
  readonly runId: string;
  readonly mode: 'standalone' | 'cluster';
}

export interface ConfigService {
  /** Name/value pairs of every setting matching one of the glob patterns. */
  get(patterns: readonly Buffer[]): Array<[string, string]>;
  /** Sets name/value pairs atomically; returns the Redis error text on failure. */
  set(pairs: ReadonlyArray<[string, string]>): string | null;
  /** CONFIG REWRITE: writes the settings back to the config file; error text on failure. */
  rewrite(): string | null;
  /** A setting's current value (for handlers that read a setting). */
  value(name: string): string;
}

export interface ClientRegistry {
  all(): Client[];
  byId(id: number): Client | undefined;
  /** Disconnects a client (CLIENT KILL) after its pending replies. */
  kill(client: Client): void;
  readonly connectedCount: number;
}

export interface CommandCounters {
  calls: number;
  /** Durations of the calls (INFO latencystats). */
  readonly latency: LatencyHistogram;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
}

export interface ServerStats {
  readonly startedMs: number;
  commandsProcessed: number;
  connectionsReceived: number;
  rejectedConnections: number;
  netInputBytes: number;
  netOutputBytes: number;
  errorReplies: number;
  readonly commandCounters: Map<string, CommandCounters>;
  readonly errorCounts: Map<string, number>;
  reset(): void;
}

export interface InfoService {
  /** The INFO text for the requested sections (empty list = default sections). */
  render(sections: readonly string[]): string;
}

export interface SlowLogEntry {
  readonly id: number;
  readonly unixSeconds: number;
  readonly durationUs: number;
  readonly args: readonly Buffer[];
  readonly peer: string;
  readonly clientName: string;
}

export interface SlowLog {
  record(client: Client, args: readonly Buffer[], durationUs: number): void;
  entries(count: number): readonly SlowLogEntry[];
  readonly length: number;
  reset(): void;
  /** slowlog-log-slower-than in microseconds; negative disables, 0 logs everything. */
  readonly thresholdUs: number;
}

export interface PersistenceService {
  /** Unix seconds of the last successful SAVE / BGSAVE (or of start). */
  readonly lastSaveUnixSeconds: number;
  /** Writes since the last save point (INFO rdb_changes_since_last_save). */
  readonly changesSinceSave: number;
  readonly bgsaveInProgress: boolean;
  /** Flushes everything written so far to disk; calls back when durable. */
  save(done: (error: Error | null) => void): void;
  /** Graceful shutdown: stop accepting, finish in-flight work, flush, exit. */
  shutdown(reason: string): void;
}

export interface AuthService {
  /** True when the default user needs a password. */
  readonly required: boolean;
  /** Checks a user/password pair in constant time. */
  check(user: string, password: Buffer): boolean;
}

export interface CommandTable {
  lookup(name: string): CommandSpec | undefined;
  lookupSubcommand(container: CommandSpec, name: string): CommandSpec | undefined;
  all(): readonly CommandSpec[];
}
