/**
 * Generic key commands (Redis 7 db.c / expire.c semantics, replies and errors).
 */
import { GLOB_PATTERN_BYTES_MAX, DATABASES_COUNT } from '../config/limits.js';
import {
  DELETE,
  type Change,
  type KeyOperation,
  type LiveValue,
} from '../coordinator/key-value-service.js';
import { cString, errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../util/glob.js';
import { INT64_MAX, INT64_MIN, parseInt32, parseInt64 } from './numbers.js';
import type { Client } from './spec.js';

const NONE: readonly Change[] = [];

/** Runs a per-key predicate over every key and replies the count (DEL, EXISTS, TOUCH). */
class CountKeys implements KeyOperation {
  readonly keyDatabases = null;
  readonly readsValues = true;
  private count = 0;

  constructor(readonly keys: readonly Buffer[], private readonly deletes: boolean) {}

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const changes: Change[] = [];
    const deleted = new Set<string>();
    for (let index = 0; index < values.length; index++) {
      const exists = values[index] !== undefined;
      if (!this.deletes) {
        if (exists) this.count++;
        changes.push(null);
        continue;
      }
      // DEL k k deletes k once.
      const id = (this.keys[index] as Buffer).latin1Slice();
      if (exists && !deleted.has(id)) {
        deleted.add(id);
        this.count++;
        changes.push(DELETE);
      } else {
        changes.push(null);
      }
    }
    return this.deletes ? changes : NONE;
  }

  reply(out: ReplyWriter): void {
    out.integer(this.count);
  }
}

export function delCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new CountKeys(args.slice(1), true));
}

export function existsCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new CountKeys(args.slice(1), false));
}

/** A read of one key whose reply depends on its value and expiry. */
class Inspect implements KeyOperation {
  readonly keyDatabases = null;
  readonly readsValues = true;
  readonly keys: readonly Buffer[];
  private reading: LiveValue | undefined;
  private nowMs = 0;

  constructor(key: Buffer,
      private readonly render: (value: LiveValue | undefined, nowMs: number,
        out: ReplyWriter) => void) {
    this.keys = [key];
  }

  apply(values: ReadonlyArray<LiveValue | undefined>, nowMs: number): readonly Change[] {
    this.reading = values[0];
    this.nowMs = nowMs;
    return NONE;
  }

  reply(out: ReplyWriter): void {
    this.render(this.reading, this.nowMs, out);
  }
}

function inspect(client: Client, key: Buffer,
    render: (value: LiveValue | undefined, nowMs: number, out: ReplyWriter) => void): void {
  client.server.kv.execute(client, client.db, new Inspect(key, render));
}

export function typeCommand(client: Client, args: Buffer[]): void {
  inspect(client, args[1] as Buffer, (value, _now, out) => {
    out.simple(value === undefined ? 'none' : 'string');
  });
}

function ttlReply(value: LiveValue | undefined, nowMs: number, out: ReplyWriter,
    milliseconds: boolean, absolute: boolean): void {
  if (value === undefined) return out.integer(-2);
  const expireAtMs = value.expireAtMs;
  if (expireAtMs === 0) return out.integer(-1);
  const remaining = Math.max(0, absolute ? expireAtMs : expireAtMs - nowMs);
  out.integer(milliseconds ? remaining : Math.floor((remaining + 500) / 1000));
}

export function ttlCommand(client: Client, args: Buffer[]): void {
  inspect(client, args[1] as Buffer, (value, now, out) => ttlReply(value, now, out, false, false));
}

export function pttlCommand(client: Client, args: Buffer[]): void {
  inspect(client, args[1] as Buffer, (value, now, out) => ttlReply(value, now, out, true, false));
}

export function expiretimeCommand(client: Client, args: Buffer[]): void {
  inspect(client, args[1] as Buffer, (value, now, out) => ttlReply(value, now, out, false, true));
}

export function pexpiretimeCommand(client: Client, args: Buffer[]): void {
  inspect(client, args[1] as Buffer, (value, now, out) => ttlReply(value, now, out, true, true));
}

// EXPIRE family -----------------------------------------------------------------------------

interface ExpireFlags {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
}

class Expire implements KeyOperation {
  readonly keyDatabases = null;
  readonly readsValues = true;
  readonly keys: readonly Buffer[];
  private result = 0;

  constructor(key: Buffer, private readonly whenMs: number, private readonly flags: ExpireFlags) {
    this.keys = [key];
  }

  apply(values: ReadonlyArray<LiveValue | undefined>, nowMs: number): readonly Change[] {
    const current = values[0];
    if (current === undefined) return NONE;
    const currentExpiry = current.expireAtMs === 0 ? -1 : current.expireAtMs;
    const { nx, xx, gt, lt } = this.flags;
    if (nx && currentExpiry !== -1) return NONE;
    if (xx && currentExpiry === -1) return NONE;
    if (gt && (this.whenMs <= currentExpiry || currentExpiry === -1)) return NONE;
    if (lt && currentExpiry !== -1 && this.whenMs >= currentExpiry) return NONE;
    this.result = 1;
    if (this.whenMs <= nowMs) return [DELETE];
    return [{ value: current.value, expireAtMs: this.whenMs }];
  }

  reply(out: ReplyWriter): void {
    out.integer(this.result);
  }
}

function parseExpireFlags(args: Buffer[]): ExpireFlags | string {
  const flags: ExpireFlags = { nx: false, xx: false, gt: false, lt: false };
  for (let index = 3; index < args.length; index++) {
    const option = (args[index] as Buffer).latin1Slice().toLowerCase();
    if (option === 'nx') flags.nx = true;
    else if (option === 'xx') flags.xx = true;
    else if (option === 'gt') flags.gt = true;
    else if (option === 'lt') flags.lt = true;
    else return `ERR Unsupported option ${cString(args[index] as Buffer)}`;
  }
  if (flags.nx && (flags.xx || flags.gt || flags.lt)) {
    return 'ERR NX and XX, GT or LT options at the same time are not compatible';
  }
  if (flags.gt && flags.lt) return 'ERR GT and LT options at the same time are not compatible';
  return flags;
}

function expireGeneric(client: Client, args: Buffer[], out: ReplyWriter, command: string,
    seconds: boolean, relative: boolean): void {
  const flags = parseExpireFlags(args);
  if (typeof flags === 'string') {
    out.error(flags);
    return;
  }
  const parsed = parseInt64(args[2] as Buffer);
  if (parsed === null) {
    out.error(errors.notInteger);
    return;
  }
  let when = BigInt(parsed);
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      out.error(errors.invalidExpire(command));
      return;
    }
    when *= 1000n;
  }
  const base = relative ? BigInt(client.server.clock.nowMs()) : 0n;
  if (when > INT64_MAX - base) {
    out.error(errors.invalidExpire(command));
    return;
  }
  when += base;
  client.server.kv.execute(client, client.db, new Expire(args[1] as Buffer, Number(when), flags));
}

export function expireCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  expireGeneric(client, args, out, 'expire', true, true);
}

export function pexpireCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  expireGeneric(client, args, out, 'pexpire', false, true);
}

export function expireatCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  expireGeneric(client, args, out, 'expireat', true, false);
}

export function pexpireatCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  expireGeneric(client, args, out, 'pexpireat', false, false);
}

class Persist implements KeyOperation {
  readonly keyDatabases = null;
  readonly readsValues = true;
  readonly keys: readonly Buffer[];
  private result = 0;

  constructor(key: Buffer) {
    this.keys = [key];
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const current = values[0];
    if (current === undefined || current.expireAtMs === 0) return NONE;
    this.result = 1;
    return [{ value: current.value, expireAtMs: 0 }];
  }

  reply(out: ReplyWriter): void {
    out.integer(this.result);
  }
}

export function persistCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new Persist(args[1] as Buffer));
}

// RENAME / RENAMENX / COPY ------------------------------------------------------------------

/**
 * Moves or copies the source key's value and expiry to the destination. On a single node
 * this is atomic; in a cluster the two keys may live on different replicas and the move is
 * a read of the source, a write of the destination, then a delete of the source.
 */
class Transfer implements KeyOperation {
  readonly readsValues = true;
  readonly keys: readonly Buffer[];
  private result: 'ok' | 0 | 1 | string = 'ok';

  constructor(
    source: Buffer,
    destination: Buffer,
    readonly keyDatabases: readonly number[] | null,
    private readonly mode: 'rename' | 'renamenx' | 'copy',
    private readonly replace: boolean,
  ) {
    this.keys = [source, destination];
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const [source, destination] = values;
    const sameKey = (this.keys[0] as Buffer).equals(this.keys[1] as Buffer) &&
      (this.keyDatabases === null || this.keyDatabases[0] === this.keyDatabases[1]);
    if (this.mode === 'copy') {
      if (source === undefined) return this.finish(0);
      if (destination !== undefined && !this.replace) return this.finish(0);
      this.result = 1;
      return [null, { value: source.value, expireAtMs: source.expireAtMs }];
    }
    if (source === undefined) return this.finish(errors.noSuchKey);
    if (sameKey) return this.finish(this.mode === 'renamenx' ? 0 : 'ok');
    if (destination !== undefined && this.mode === 'renamenx') return this.finish(0);
    this.result = this.mode === 'renamenx' ? 1 : 'ok';
    return [DELETE, { value: source.value, expireAtMs: source.expireAtMs }];
  }

  reply(out: ReplyWriter): void {
    const result = this.result;
    if (result === 'ok') out.ok();
    else if (typeof result === 'number') out.integer(result);
    else out.error(result);
  }

  private finish(result: 'ok' | 0 | 1 | string): readonly Change[] {
    this.result = result;
    return NONE;
  }
}

export function renameCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db,
    new Transfer(args[1] as Buffer, args[2] as Buffer, null, 'rename', false));
}

export function renamenxCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db,
    new Transfer(args[1] as Buffer, args[2] as Buffer, null, 'renamenx', false));
}

export function copyCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let replace = false;
  let targetDb = client.db;
  for (let index = 3; index < args.length; index++) {
    const option = (args[index] as Buffer).latin1Slice().toLowerCase();
    if (option === 'replace') {
      replace = true;
    } else if (option === 'db' && index + 1 < args.length) {
      const db = parseInt32(args[++index] as Buffer);
      if (typeof db === 'string') {
        out.error(db);
        return;
      }
      if (db < 0 || db >= DATABASES_COUNT) {
        out.error(errors.dbIndexOutOfRange);
        return;
      }
      targetDb = db;
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  const source = args[1] as Buffer;
  const destination = args[2] as Buffer;
  if (targetDb === client.db && source.equals(destination)) {
    out.error('ERR source and destination objects are the same');
    return;
  }
  client.server.kv.execute(client, client.db,
    new Transfer(source, destination, [client.db, targetDb], 'copy', replace));
}

// KEYS / SCAN / RANDOMKEY / DBSIZE / FLUSH --------------------------------------------------

export function keysCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const pattern = args[1] as Buffer;
  if (pattern.length > GLOB_PATTERN_BYTES_MAX) {
    out.error('ERR pattern too long');
    return;
  }
  const matchAll = pattern.length === 1 && pattern[0] === 42;
  const keys: Buffer[] = [];
  let cursor = 0;
  do {
    const page = client.server.kv.scan(client.db, cursor, 1000,
      (key) => matchAll || globMatch(pattern, key));
    for (const key of page.keys) keys.push(key);
    cursor = page.cursor;
  } while (cursor !== 0);
  out.arrayHeader(keys.length);
  for (const key of keys) out.bulk(key);
}

export function scanCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const cursor = parseCursor(args[1] as Buffer);
  if (cursor === null) {
    out.error(errors.invalidCursor);
    return;
  }
  let count = 10;
  let pattern: Buffer | null = null;
  let type: string | null = null;
  for (let index = 2; index < args.length; index += 2) {
    const option = (args[index] as Buffer).latin1Slice().toLowerCase();
    const remaining = args.length - index;
    if (option === 'count' && remaining >= 2) {
      const value = parseInt64(args[index + 1] as Buffer);
      if (value === null) {
        out.error(errors.notInteger);
        return;
      }
      if (value < 1) {
        out.error(errors.syntax);
        return;
      }
      count = typeof value === 'bigint' ? Number.MAX_SAFE_INTEGER : value;
    } else if (option === 'match' && remaining >= 2) {
      const candidate = args[index + 1] as Buffer;
      pattern = candidate.length === 1 && candidate[0] === 42 ? null : candidate;
      if (pattern !== null && pattern.length > GLOB_PATTERN_BYTES_MAX) {
        out.error('ERR pattern too long');
        return;
      }
    } else if (option === 'type' && remaining >= 2) {
      type = (args[index + 1] as Buffer).latin1Slice().toLowerCase();
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  const result = client.server.kv.scan(client.db, cursor, count, (key) =>
    (pattern === null || globMatch(pattern, key)) && (type === null || type === 'string'));
  out.arrayHeader(2);
  out.bulkString(String(result.cursor));
  out.arrayHeader(result.keys.length);
  for (const key of result.keys) out.bulk(key);
}

/**
 * Redis parses cursors with strtoul: decimal, optional sign (negative wraps), no leading
 * space, nothing after the digits. strtoul sees a C string, so an empty one (or one that
 * starts with NUL) reads as 0.
 */
function parseCursor(bytes: Buffer): number | null {
  const nul = bytes.indexOf(0);
  const text = (nul === -1 ? bytes : bytes.subarray(0, nul)).latin1Slice();
  if (text.length === 0) return 0;
  if (!/^[+-]?\d+$/.test(text)) return null;
  const value = BigInt(text);
  const magnitude = value < 0n ? -value : value;
  if (magnitude >= 1n << 64n) return null;
  const unsigned = value < 0n ? (1n << 64n) + value : value;
  // Our cursors are below 2^53; anything larger restarts the slot it names (see scan-cursors).
  return Number(unsigned % (1n << 50n));
}

export function randomkeyCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const key = client.server.kv.randomKey(client.db);
  if (key === null) out.nil();
  else out.bulk(key);
}

export function dbsizeCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.integer(client.server.kv.databaseSize(client.db));
}

function parseFlushMode(args: Buffer[], out: ReplyWriter): boolean {
  if (args.length > 2) {
    out.error(errors.syntax);
    return false;
  }
  if (args.length === 2) {
    const mode = (args[1] as Buffer).latin1Slice().toLowerCase();
    if (mode !== 'sync' && mode !== 'async') {
      out.error(errors.syntax);
      return false;
    }
  }
  return true;
}

function flushGeneric(client: Client, args: Buffer[], out: ReplyWriter, db: number): void {
  if (!parseFlushMode(args, out)) return;
  out.ok();
  const token = client.hold();
  client.server.kv.flush(db, (error) => {
    client.durable(token, error);
  });
}

export function flushdbCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  flushGeneric(client, args, out, client.db);
}

export function flushallCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  flushGeneric(client, args, out, -1);
}

export function touchCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new CountKeys(args.slice(1), false));
}
