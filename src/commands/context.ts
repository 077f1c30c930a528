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

/** Why an ACL refuses a command line: the command itself, or one of its keys. */
export type AccessDenial = 'command' | 'key';

/** What dispatch needs of the user a connection runs as (ACL). */
export interface UserAccess {
  readonly name: string;
  /** Every command on every key (the default user's usual rules): dispatch skips the check. */
  readonly unrestricted: boolean;
  /** Why this user may not run `args` (whose command is `spec`), or null when it may. */
  denial(spec: CommandSpec, args: readonly Buffer[]): AccessDenial | null;
}

/** A user's rules as ACL GETUSER reports them (texts are latin1, one byte per character). */
export interface UserDetails {
  readonly flags: readonly string[];
  readonly passwords: readonly string[];
  readonly commands: string;
  readonly keys: string;
  readonly channels: string;
}

/** Users and their ACL rules (`user` directives, ACL SETUSER), authentication, counters. */
export interface AuthService {
  /** True when a new connection starts unauthenticated (default user off or with a password). */
  readonly required: boolean;
  /** The default user has `nopass`: AUTH <password> is refused, protected mode applies. */
  readonly defaultUserNoPass: boolean;
  /**
   * Checks a user/password pair (SHA-256 digests compared in constant time); a failure is
   * counted (INFO acl_access_denied_auth). User names are latin1 strings, as sent.
   */
  authenticate(user: string, password: Buffer): boolean;
  /** The user a connection runs as; an unknown name gets a user that may do nothing. */
  access(user: string): UserAccess;
  /** Counts a refused command (INFO acl_access_denied_cmd / _key). */
  recordDenial(denial: AccessDenial): void;
  /** Names of every user, in byte order. */
  userNames(): string[];
  /** `on #... ~* &* +@all`: the rules of a user in ACL LIST form, or null. */
  describe(user: string): string | null;
  details(user: string): UserDetails | null;
  /** ACL SETUSER: creates or changes a user, all rules or none; returns the error text. */
  setUser(user: string, rules: readonly Buffer[]): string | null;
  /** ACL DELUSER: removes a user (never the default one); false when there was none. */
  deleteUser(user: string): boolean;
}

export interface CommandTable {
  lookup(name: string): CommandSpec | undefined;
  /** The same lookup by the name's bytes as sent (the request path: no string made). */
  lookupBytes(name: Buffer): CommandSpec | undefined;
  lookupSubcommand(container: CommandSpec, name: string): CommandSpec | undefined;
  all(): readonly CommandSpec[];
}
