/**
 * Runs one decoded request, checking the cheap things first in Redis 7's processCommand
 * order: lookup, arity, authentication, ACL permissions, loading, then the handler, with
 * command statistics, error statistics and the slow log around it.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { AccessDenial, CommandCounters, UserAccess } from './context.js';
import type { Client, CommandSpec } from './spec.js';
import { errors } from '../protocol/errors.js';
import { AssertionError } from '../util/assert.js';
import { LatencyHistogram } from '../util/latency-histogram.js';

/** The connection-side hooks dispatch needs beyond the Client interface. */
export interface DispatchTarget extends Client {
  /** The writer for this command's reply (honours CLIENT REPLY OFF / SKIP). */
  replyWriter(): ReplyWriter;
  /** Called after the command: resets a SKIP, discards suppressed output. */
  afterCommand(): void;
  /** The client sent something that looks like HTTP: drop it silently, as Redis does. */
  dropAsAttack(): void;
  /** The user this connection runs as (ACL checks). */
  readonly access: UserAccess;
  /** True while the node loads its data (commands without the loading flag are refused). */
  readonly serverLoading: boolean;
  lastCommand: string;
  lastInteractionMs: number;
}

/**
 * Runs one request. `startedMs` is when it started (performance.now): the connection passes
 * the value the previous request of the same batch returned, so a pipelined batch of n
 * requests reads the clock n + 1 times instead of 2n (the reads were ~2 % of a SET -P 16's
 * main thread, 1 % now); the next request's decoding, a fraction of a microsecond, then
 * counts in its time. Returns when it ended.
 */
export function dispatch(client: DispatchTarget, args: Buffer[], startedMs: number): number {
  const first = args[0] as Buffer;
  const server = client.server;
  let spec = server.commands.lookupBytes(first);
  if (spec === undefined) {
    const lower = first.latin1Slice().toLowerCase();
    if (lower === 'post' || lower === 'host:') {
      client.dropAsAttack();
      return performance.now();
    }
    client.replyWriter().error(errors.unknownCommand(first, args));
    client.afterCommand();
    return performance.now();
  }
  if (spec.subcommands !== undefined && args.length >= 2) {
    const sub = server.commands.lookupSubcommand(spec, (args[1] as Buffer).latin1Slice());
    if (sub === undefined) {
      // Counted only as an error (errorstats), not as a call of the container, as in Redis.
      client.replyWriter().error(errors.unknownSubcommand(args[1] as Buffer, spec.name));
      client.afterCommand();
      return performance.now();
    }
    spec = sub;
  }
  const out = client.replyWriter();
  if (!arityMatches(spec.arity, args.length) || spec.handler === undefined) {
    return reject(client, spec, out, errors.wrongArity(spec.name));
  }
  if (!client.authenticated && !spec.flags.includes('no_auth')) {
    return reject(client, spec, out, errors.noAuth);
  }
  // The default user (+@all ~*) costs one flag test; other users precompute their rules.
  const access = client.access;
  if (!access.unrestricted) {
    const denial = access.denial(spec, args);
    if (denial !== null) {
      server.auth.recordDenial(denial);
      return reject(client, spec, out, noPermission(spec, denial));
    }
  }
  if (client.serverLoading && !spec.flags.includes('loading')) {
    return reject(client, spec, out, errors.loading);
  }
  return run(client, spec, args, out, startedMs);
}

function run(client: DispatchTarget, spec: CommandSpec, args: Buffer[], out: ReplyWriter,
    startedMs: number): number {
  const server = client.server;
  client.lastCommand = spec.name;
  const errorsBefore = out.errorsWritten;
  try {
    (spec.handler as NonNullable<CommandSpec['handler']>)(client, args, out);
  } catch (error) {
    // Our own invariants failing means state is wrong: stop (STYLE.md section 6).
    if (error instanceof AssertionError) throw error;
    reportInternalError(client, spec, error, out);
  }
  const endedMs = performance.now();
  const durationMs = endedMs - startedMs;
  const durationUs = Math.round(durationMs * 1000);
  // Looked up after the handler: CONFIG RESETSTAT clears the table and counts itself anew.
  const counters = countersOf(server.stats.commandCounters, spec.name);
  counters.calls++;
  counters.usec += durationUs;
  counters.latency.record(durationMs * 1e6);
  if (out.errorsWritten !== errorsBefore) counters.failedCalls++;
  server.stats.commandsProcessed++;
  const threshold = server.slowlog.thresholdUs;
  if (threshold >= 0 && durationUs >= threshold && !spec.flags.includes('skip_slowlog')) {
    server.slowlog.record(client, args, durationUs);
  }
  client.afterCommand();
  return endedMs;
}

/** A handler threw: the client gets ERR internal error, the operator one log line per kind. */
function reportInternalError(client: DispatchTarget, spec: CommandSpec, error: unknown,
    out: ReplyWriter): void {
  out.error(errors.internal);
  const message = error instanceof Error ? error.message : String(error);
  const kind = `${spec.name}:${message}`;
  if (!reportedErrors.has(kind) && reportedErrors.size < REPORTED_ERRORS_MAX) {
    reportedErrors.add(kind);
    client.server.logger.error({ err: error, command: spec.name },
      'command failed with an internal error');
  }
}

const REPORTED_ERRORS_MAX = 1000;
const reportedErrors = new Set<string>();

/** Answers with an error without running the command; returns when it ended. */
function reject(client: DispatchTarget, spec: CommandSpec, out: ReplyWriter,
    message: string): number {
  countersOf(client.server.stats.commandCounters, spec.name).rejectedCalls++;
  out.error(message);
  client.afterCommand();
  return performance.now();
}

/** Redis 7.0.15's NOPERM texts (they belong with protocol/errors.ts's catalogue). */
function noPermission(spec: CommandSpec, denial: AccessDenial): string {
  if (denial === 'key') {
    return 'NOPERM this user has no permissions to access one of the keys used as arguments';
  }
  return `NOPERM this user has no permissions to run the '${spec.name}' command`;
}

function arityMatches(arity: number, count: number): boolean {
  return arity >= 0 ? count === arity : count >= -arity;
}

function countersOf(table: Map<string, CommandCounters>, name: string): CommandCounters {
  let counters = table.get(name);
  if (counters === undefined) {
    counters = { calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0,
      latency: new LatencyHistogram() };
    table.set(name, counters);
  }
  return counters;
}
