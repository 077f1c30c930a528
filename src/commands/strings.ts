/**
 * String commands (Redis 7 t_string.c semantics, replies and errors). Each handler parses
 * its arguments, then hands a KeyOperation to the key-value service; the operation decides
 * from the keys' current values what to store and what to reply.
 */
import {
  DELETE,
  type Change,
  type KeyOperation,
  type LiveValue,
  type SetChange,
} from '../coordinator/key-value-service.js';
import { errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { parseExpiry, type ExpiryOption } from './expiry.js';
import {
  addInt64,
  addLongDoubles,
  formatLongDouble,
  int64Bytes,
  parseInt64,
  parseLongDouble,
  INT64_MIN,
  type LongDouble,
} from './numbers.js';
import type { Client } from './spec.js';

const NONE: readonly Change[] = [];
const EMPTY = Buffer.alloc(0);

/** The configured proto-max-bulk-len, which also bounds string values built by commands. */
export interface StringLimits {
  bulkBytesMax: number;
}

let stringLimits: StringLimits = { bulkBytesMax: 512 * 1024 * 1024 };

export function setStringLimits(limits: StringLimits): void {
  stringLimits = limits;
}

function exceedsMaxLength(size: number): boolean {
  return size > stringLimits.bulkBytesMax;
}

abstract class SingleKey implements KeyOperation {
  readonly keys: readonly Buffer[];
  readonly keyDatabases = null;
  abstract readonly readsValues: boolean;

  constructor(key: Buffer) {
    this.keys = [key];
  }

  abstract apply(values: ReadonlyArray<LiveValue | undefined>, nowMs: number): readonly Change[];
  abstract reply(out: ReplyWriter): void;
}

// GET ---------------------------------------------------------------------------------------

class Get extends SingleKey {
  readonly readsValues = true;
  private value: Buffer | undefined;

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    this.value = values[0]?.value;
    return NONE;
  }

  reply(out: ReplyWriter): void {
    if (this.value === undefined) out.nil();
    else out.bulk(this.value);
  }
}

export function getCommand(client: Client, args: Buffer[]): void {
  const kv = client.server.kv;
  const key = args[1] as Buffer;
  if (!kv.replyWithValue(client, client.db, key)) kv.execute(client, client.db, new Get(key));
}

// SET family --------------------------------------------------------------------------------

const enum SetCondition { Always, IfMissing, IfExists }

/**
 * SET with every option. `replyStyle` covers SET (+OK / nil), SETNX (1 / 0) and the GET
 * flag (the old value).
 */
class Set extends SingleKey {
  readonly readsValues: boolean;
  private old: Buffer | undefined;
  private done = false;

  constructor(
    key: Buffer,
    private readonly value: Buffer,
    private readonly condition: SetCondition,
    private readonly expiry: ExpiryOption,
    private readonly replyStyle: 'ok' | 'integer' | 'old',
  ) {
    super(key);
    this.readsValues = condition !== SetCondition.Always || replyStyle === 'old' ||
      expiry.keepTtl;
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const current = values[0];
    this.old = current?.value;
    if ((this.condition === SetCondition.IfMissing && current !== undefined) ||
        (this.condition === SetCondition.IfExists && current === undefined)) {
      return NONE;
    }
    this.done = true;
    let expireAtMs = this.expiry.expireAtMs;
    if (this.expiry.keepTtl && current !== undefined) expireAtMs = current.expireAtMs;
    return [{ value: this.value, expireAtMs }];
  }

  reply(out: ReplyWriter): void {
    if (this.replyStyle === 'old') {
      if (this.old === undefined) out.nil();
      else out.bulk(this.old);
    } else if (this.replyStyle === 'integer') {
      out.integer(this.done ? 1 : 0);
    } else if (this.done) {
      out.ok();
    } else {
      out.nil();
    }
  }
}

export function setCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  if (args.length === 3) {
    // Plain SET key value, what nearly every client sends: no options to parse.
    const kv = client.server.kv;
    const key = args[1] as Buffer;
    const value = args[2] as Buffer;
    if (!kv.storeValue(client, client.db, key, value)) {
      kv.execute(client, client.db, new Set(key, value, SetCondition.Always, NO_EXPIRY, 'ok'));
    }
    return;
  }
  let condition = SetCondition.Always;
  let returnOld = false;
  const expiryArgs: Buffer[] = [];
  for (let index = 3; index < args.length; index++) {
    const option = (args[index] as Buffer).latin1Slice().toUpperCase();
    const hasNext = index + 1 < args.length;
    if (option === 'NX' && condition !== SetCondition.IfExists) {
      condition = SetCondition.IfMissing;
    } else if (option === 'XX' && condition !== SetCondition.IfMissing) {
      condition = SetCondition.IfExists;
    } else if (option === 'GET') {
      returnOld = true;
    } else if (option === 'KEEPTTL' || ((option === 'EX' || option === 'PX' ||
        option === 'EXAT' || option === 'PXAT') && hasNext)) {
      expiryArgs.push(args[index] as Buffer);
      if (option !== 'KEEPTTL') expiryArgs.push(args[++index] as Buffer);
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  const expiry = parseExpiry(expiryArgs, 'set', client.server.clock.nowMs());
  if (typeof expiry === 'string') {
    out.error(expiry);
    return;
  }
  const operation = new Set(args[1] as Buffer, args[2] as Buffer, condition, expiry,
    returnOld ? 'old' : 'ok');
  client.server.kv.execute(client, client.db, operation);
}

export function setnxCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new Set(args[1] as Buffer, args[2] as Buffer,
    SetCondition.IfMissing, NO_EXPIRY, 'integer'));
}

const NO_EXPIRY: ExpiryOption = { expireAtMs: 0, keepTtl: false, persist: false, set: false };

function setWithTimeout(client: Client, args: Buffer[], out: ReplyWriter, unit: 'EX' | 'PX',
    command: string): void {
  const expiry = parseExpiry([Buffer.from(unit), args[2] as Buffer], command,
    client.server.clock.nowMs());
  if (typeof expiry === 'string') {
    out.error(expiry);
    return;
  }
  client.server.kv.execute(client, client.db, new Set(args[1] as Buffer, args[3] as Buffer,
    SetCondition.Always, expiry, 'ok'));
}

export function setexCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  setWithTimeout(client, args, out, 'EX', 'setex');
}

export function psetexCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  setWithTimeout(client, args, out, 'PX', 'psetex');
}

export function getsetCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new Set(args[1] as Buffer, args[2] as Buffer,
    SetCondition.Always, NO_EXPIRY, 'old'));
}

// GETDEL / GETEX ----------------------------------------------------------------------------

class GetDel extends SingleKey {
  readonly readsValues = true;
  private value: Buffer | undefined;

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    this.value = values[0]?.value;
    return this.value === undefined ? NONE : [DELETE];
  }

  reply(out: ReplyWriter): void {
    if (this.value === undefined) out.nil();
    else out.bulk(this.value);
  }
}

export function getdelCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new GetDel(args[1] as Buffer));
}

class GetEx extends SingleKey {
  readonly readsValues = true;
  private value: Buffer | undefined;

  constructor(key: Buffer, private readonly expiry: ExpiryOption) {
    super(key);
  }

  apply(values: ReadonlyArray<LiveValue | undefined>, nowMs: number): readonly Change[] {
    const current = values[0];
    this.value = current?.value;
    if (current === undefined) return NONE;
    if (this.expiry.set) {
      if (this.expiry.expireAtMs <= nowMs) return [DELETE];
      return [{ value: current.value, expireAtMs: this.expiry.expireAtMs }];
    }
    if (this.expiry.persist && current.expireAtMs !== 0) {
      return [{ value: current.value, expireAtMs: 0 }];
    }
    return NONE;
  }

  reply(out: ReplyWriter): void {
    if (this.value === undefined) out.nil();
    else out.bulk(this.value);
  }
}

export function getexCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const expiryArgs: Buffer[] = [];
  let chosen = '';
  for (let index = 2; index < args.length; index++) {
    const option = (args[index] as Buffer).latin1Slice().toUpperCase();
    const hasNext = index + 1 < args.length;
    const timed = option === 'EX' || option === 'PX' || option === 'EXAT' || option === 'PXAT';
    if (option === 'PERSIST' && (chosen === '' || chosen === 'PERSIST')) {
      chosen = option;
      expiryArgs.length = 0;
      expiryArgs.push(args[index] as Buffer);
    } else if (timed && hasNext && (chosen === '' || chosen === option)) {
      chosen = option;
      expiryArgs.length = 0;
      expiryArgs.push(args[index] as Buffer, args[++index] as Buffer);
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  // Redis validates the time only when the key exists: parse lazily via the operation.
  const expiry = parseExpiry(expiryArgs, 'getex', client.server.clock.nowMs());
  if (typeof expiry === 'string') {
    client.server.kv.execute(client, client.db, new GetExInvalid(args[1] as Buffer, expiry));
    return;
  }
  client.server.kv.execute(client, client.db, new GetEx(args[1] as Buffer, expiry));
}

/** GETEX with an invalid time: nil for a missing key, else the time error (as Redis). */
class GetExInvalid extends SingleKey {
  readonly readsValues = true;
  private exists = false;

  constructor(key: Buffer, private readonly error: string) {
    super(key);
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    this.exists = values[0] !== undefined;
    return NONE;
  }

  reply(out: ReplyWriter): void {
    if (this.exists) out.error(this.error);
    else out.nil();
  }
}

// MGET / MSET / MSETNX ----------------------------------------------------------------------

class MGet implements KeyOperation {
  readonly keyDatabases = null;
  readonly readsValues = true;
  private values: Array<Buffer | undefined> = [];

  constructor(readonly keys: readonly Buffer[]) {}

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    this.values = values.map((value) => value?.value);
    return NONE;
  }

  reply(out: ReplyWriter): void {
    out.arrayHeader(this.values.length);
    for (const value of this.values) {
      if (value === undefined) out.nil();
      else out.bulk(value);
    }
  }
}

export function mgetCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new MGet(args.slice(1)));
}

class MSet implements KeyOperation {
  readonly keyDatabases = null;
  readonly readsValues: boolean;
  readonly keys: readonly Buffer[];
  private done = false;

  constructor(args: Buffer[], private readonly onlyIfNoneExist: boolean) {
    const keys: Buffer[] = [];
    for (let index = 1; index < args.length; index += 2) keys.push(args[index] as Buffer);
    this.keys = keys;
    this.values = [];
    for (let index = 2; index < args.length; index += 2) this.values.push(args[index] as Buffer);
    this.readsValues = onlyIfNoneExist;
  }

  private readonly values: Buffer[];

  apply(current: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    if (this.onlyIfNoneExist && current.some((value) => value !== undefined)) return NONE;
    this.done = true;
    // A key given twice takes its last value, as in Redis.
    const changes: Change[] = [];
    for (let index = 0; index < this.keys.length; index++) {
      const key = this.keys[index] as Buffer;
      const later = this.keys.findIndex((other, at) => at > index && other.equals(key));
      changes.push(later === -1 ? { value: this.values[index] as Buffer, expireAtMs: 0 }
        : null);
    }
    return changes;
  }

  reply(out: ReplyWriter): void {
    if (!this.onlyIfNoneExist) out.ok();
    else out.integer(this.done ? 1 : 0);
  }
}

function msetGeneric(client: Client, args: Buffer[], out: ReplyWriter, nx: boolean): void {
  if (args.length % 2 === 0) {
    out.error(errors.wrongArity(nx ? 'msetnx' : 'mset'));
    return;
  }
  client.server.kv.execute(client, client.db, new MSet(args, nx));
}

export function msetCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  msetGeneric(client, args, out, false);
}

export function msetnxCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  msetGeneric(client, args, out, true);
}

// APPEND / STRLEN / GETRANGE / SETRANGE -----------------------------------------------------

/**
 * Read-modify-write operations whose reply is an integer or an error, keeping the TTL.
 * `transform` returns the new value, or an error string.
 */
class Modify extends SingleKey {
  readonly readsValues = true;
  private result: number | string = 0;

  constructor(
    key: Buffer,
    private readonly transform: (current: Buffer | undefined) => Buffer | string | null,
    private readonly replyLength: boolean,
  ) {
    super(key);
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const current = values[0];
    const next = this.transform(current?.value);
    if (typeof next === 'string') {
      this.result = next;
      return NONE;
    }
    if (next === null) {
      this.result = current === undefined ? 0 : current.value.length;
      return NONE;
    }
    this.result = next.length;
    return [{ value: next, expireAtMs: current?.expireAtMs ?? 0 }];
  }

  reply(out: ReplyWriter): void {
    if (typeof this.result === 'string') out.error(this.result);
    else out.integer(this.replyLength ? this.result : 0);
  }
}

export function appendCommand(client: Client, args: Buffer[]): void {
  const suffix = args[2] as Buffer;
  client.server.kv.execute(client, client.db, new Modify(args[1] as Buffer, (current) => {
    if (current === undefined) return suffix;
    if (exceedsMaxLength(current.length + suffix.length)) return errors.stringTooLong;
    return Buffer.concat([current, suffix]);
  }, true));
}

class StrLen extends SingleKey {
  readonly readsValues = true;
  private length = 0;

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    this.length = values[0]?.value.length ?? 0;
    return NONE;
  }

  reply(out: ReplyWriter): void {
    out.integer(this.length);
  }
}

export function strlenCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new StrLen(args[1] as Buffer));
}

class GetRange extends SingleKey {
  readonly readsValues = true;
  private result: Buffer = EMPTY;

  constructor(key: Buffer, private readonly start: number, private readonly end: number) {
    super(key);
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const value = values[0]?.value;
    this.result = value === undefined ? EMPTY : substring(value, this.start, this.end);
    return NONE;
  }

  reply(out: ReplyWriter): void {
    out.bulk(this.result);
  }
}

/** GETRANGE's index rules (t_string.c getrangeCommand). */
function substring(value: Buffer, start: number, end: number): Buffer {
  const length = value.length;
  if (start < 0 && end < 0 && start > end) return EMPTY;
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return EMPTY;
  return value.subarray(start, end + 1);
}

export function getrangeCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const start = parseInt64(args[2] as Buffer);
  const end = parseInt64(args[3] as Buffer);
  if (start === null || end === null) {
    out.error(errors.notInteger);
    return;
  }
  // Redis's first test compares the 64-bit indexes themselves, before any clamping: both
  // negative with the start after the end is empty whatever the string's length.
  const emptyRange = start < 0 && end < 0 && start > end;
  client.server.kv.execute(client, client.db, new GetRange(args[1] as Buffer,
    emptyRange ? 1 : clampToNumber(start), emptyRange ? 0 : clampToNumber(end)));
}

/** Indexes beyond 2^53 behave like any index past the end of a string. */
function clampToNumber(value: number | bigint): number {
  if (typeof value === 'number') return value;
  return value < 0n ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
}

export function setrangeCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const offsetValue = parseInt64(args[2] as Buffer);
  if (offsetValue === null) {
    out.error(errors.notInteger);
    return;
  }
  if (offsetValue < 0) {
    out.error('ERR offset is out of range');
    return;
  }
  const offset = clampToNumber(offsetValue);
  const patch = args[3] as Buffer;
  client.server.kv.execute(client, client.db, new Modify(args[1] as Buffer, (current) => {
    if (patch.length === 0) return null;
    if (exceedsMaxLength(offset + patch.length)) return errors.stringTooLong;
    const length = Math.max(current?.length ?? 0, offset + patch.length);
    const next = Buffer.alloc(length);
    current?.copy(next, 0);
    patch.copy(next, offset);
    return next;
  }, true));
}

// INCR family -------------------------------------------------------------------------------

class IncrementBy extends SingleKey {
  readonly readsValues = true;
  private result: number | bigint | string = 0;

  constructor(key: Buffer, private readonly increment: number | bigint) {
    super(key);
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const current = values[0];
    const base = current === undefined ? 0 : parseInt64(current.value);
    if (base === null) {
      this.result = errors.notInteger;
      return NONE;
    }
    const sum = addInt64(base, this.increment);
    if (sum === null) {
      this.result = errors.overflow;
      return NONE;
    }
    this.result = sum;
    return [{ value: int64Bytes(sum), expireAtMs: current?.expireAtMs ?? 0 }];
  }

  reply(out: ReplyWriter): void {
    const result = this.result;
    if (typeof result === 'string') out.error(result);
    else out.integer(result);
  }
}

export function incrCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new IncrementBy(args[1] as Buffer, 1));
}

export function decrCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db, new IncrementBy(args[1] as Buffer, -1));
}

export function incrbyCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const increment = parseInt64(args[2] as Buffer);
  if (increment === null) {
    out.error(errors.notInteger);
    return;
  }
  client.server.kv.execute(client, client.db, new IncrementBy(args[1] as Buffer, increment));
}

export function decrbyCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const decrement = parseInt64(args[2] as Buffer);
  if (decrement === null) {
    out.error(errors.notInteger);
    return;
  }
  if (typeof decrement === 'bigint' && decrement === INT64_MIN) {
    out.error('ERR decrement would overflow');
    return;
  }
  const increment = typeof decrement === 'number' ? -decrement : -decrement;
  client.server.kv.execute(client, client.db, new IncrementBy(args[1] as Buffer, increment));
}

const LONG_DOUBLE_ZERO: LongDouble = { negative: false, significand: 0n, exponent: 0 };

class IncrementByFloat extends SingleKey {
  readonly readsValues = true;
  private result: Buffer | string = EMPTY;

  constructor(key: Buffer, private readonly increment: Buffer) {
    super(key);
  }

  apply(values: ReadonlyArray<LiveValue | undefined>): readonly Change[] {
    const current = values[0];
    const base = current === undefined ? LONG_DOUBLE_ZERO : parseLongDouble(current.value);
    const increment = parseLongDouble(this.increment);
    if (base === null || increment === null) {
      this.result = errors.notFloat;
      return NONE;
    }
    const sum = base === 'inf' || increment === 'inf' ? 'inf' : addLongDoubles(base, increment);
    if (sum === 'inf') {
      this.result = 'ERR increment would produce NaN or Infinity';
      return NONE;
    }
    const text = Buffer.from(formatLongDouble(sum), 'latin1');
    this.result = text;
    return [{ value: text, expireAtMs: current?.expireAtMs ?? 0 }];
  }

  reply(out: ReplyWriter): void {
    if (typeof this.result === 'string') out.error(this.result);
    else out.bulk(this.result);
  }
}

export function incrbyfloatCommand(client: Client, args: Buffer[]): void {
  client.server.kv.execute(client, client.db,
    new IncrementByFloat(args[1] as Buffer, args[2] as Buffer));
}

export type { SetChange };
