/**
 * Command specifications: everything the dispatcher checks before running a command, and
 * everything COMMAND / COMMAND INFO / COMMAND DOCS report, in one readonly table entry per
 * command (cf. Redis's commands/*.json). Handlers are module-level functions.
 */
import type { Consistency } from '../coordinator/consistency.js';
import type { ReplyTarget } from '../coordinator/key-value-service.js';
import type { ReplyWriter, Protocol } from '../protocol/reply-writer.js';

/** Redis command flags, as COMMAND INFO reports them. */
export type CommandFlag =
  | 'write' | 'readonly' | 'denyoom' | 'admin' | 'pubsub' | 'noscript' | 'blocking'
  | 'loading' | 'stale' | 'skip_monitor' | 'skip_slowlog' | 'fast' | 'no_auth'
  | 'may_replicate' | 'no_mandatory_keys' | 'no_multi' | 'allow_busy' | 'module'
  | 'no_async_loading';

/** Key positions, the legacy (first, last, step) triple go-redis and others read. */
export interface KeyPositions {
  readonly first: number;
  readonly last: number;
  readonly step: number;
}

/** What a handler may see and change of the client that sent the command. */
export interface Client extends ReplyTarget {
  readonly id: number;
  db: number;
  protocol: Protocol;
  name: string;
  libName: string;
  libVersion: string;
  user: string;
  authenticated: boolean;
  /** Read and write consistency levels (CONSISTENCY). */
  consistency: Consistency;
  /** CLIENT REPLY: ON, OFF or SKIP (SKIP drops the next command's reply). */
  replyMode: 'on' | 'off' | 'skip';
  noEvict: boolean;
  noTouch: boolean;
  readonly server: ServerContext;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly createdMs: number;
  setAuthenticated(authenticated: boolean, user: string): void;
  /** RESET: back to a fresh connection's state (db 0, RESP2, default user, no name). */
  resetState(): void;
  /** Closes the connection once the replies written so far have been sent. */
  closeAfterReply(): void;
  /** Line for CLIENT INFO / CLIENT LIST. */
  describe(): string;
}

/** Server-wide services handlers use; built once in main.ts (see commands/context.ts). */
export type { ServerContext } from './context.js';
import type { ServerContext } from './context.js';

export type Handler = (client: Client, args: Buffer[], out: ReplyWriter) => void;

/**
 * What dispatch needs to know about a command, plus what COMMAND INFO reports about it.
 * Documentation (summary, arguments for COMMAND DOCS, key specs, tips) lives in
 * commands/docs.ts, keyed by the same name.
 */
export interface CommandSpec {
  /** Lower-case name, as COMMAND reports it ("get", "client|list" for subcommands). */
  readonly name: string;
  /** Redis arity: positive = exact argument count (with the name), negative = at least. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly keys: KeyPositions;
  readonly aclCategories: readonly string[];
  /** COMMAND INFO tips ("nondeterministic_output", "request_policy:all_shards", ...). */
  readonly tips: readonly string[];
  /** Subcommands (CLIENT, CONFIG, COMMAND, ...), named "container|sub". */
  readonly subcommands?: readonly CommandSpec[];
  /** Absent for container commands whose subcommands carry the handlers. */
  readonly handler?: Handler;
}

export const NO_KEYS: KeyPositions = { first: 0, last: 0, step: 0 };
export const ONE_KEY: KeyPositions = { first: 1, last: 1, step: 1 };
