/**
 * Incremental decoder for client requests: RESP multibulk (`*N\r\n$len\r\n...`) and inline
 * commands (`PING\r\n`), with Redis 7's limits and exact protocol error strings
 * (networking.c processMultibulkBuffer / processInlineBuffer).
 *
 * Why not redis-parser here: requests are flat arrays of bulk strings, and Redis checks the
 * multibulk count and each bulk length against limits *before* buffering the data; it also
 * accepts inline commands. redis-parser decodes any RESP reply type, checks no sizes and has
 * no inline mode, so it would need a pre-scan of every header anyway (see bench/micro and
 * bench/RESULTS.md for the measured comparison). redis-parser decodes replies on peer links.
 *
 * Argument Buffers are slices of the socket chunks: zero copy, valid for as long as they are
 * referenced (chunks are never reused; util/socket-reads.ts), but a caller that keeps one
 * long should copy it so a small key does not pin a 64 KiB slab.
 */
import {
  BIG_ARGUMENT_BYTES,
  INLINE_BYTES_MAX,
  MULTIBULK_COUNT_MAX,
  UNAUTHENTICATED_ARGS_MAX,
  UNAUTHENTICATED_BULK_BYTES_MAX,
} from '../config/limits.js';
import { bufferView } from '../util/buffers.js';
import { splitArgs } from '../util/split-args.js';

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
const EMPTY = Buffer.alloc(0);
/**
 * Argument arrays are allocated at their final size up to this many arguments (a push onto
 * an empty array reserves 17 slots: most of a GET's allocations were that and its two
 * argument views); longer requests grow as their arguments arrive.
 */
const ARGS_PRESIZED_MAX = 1024;
/** `args` between requests; never written (a bug that did would throw). */
const NO_ARGS: Buffer[] = Object.freeze([]) as unknown as Buffer[];

/** What the decoder needs to know about its connection and the server's settings. */
export interface DecoderLimits {
  bulkBytesMax: number;
}

export class RequestDecoder {
  /** Set by the connection: before AUTH the stricter limits apply. */
  authRequired = false;
  /** The protocol error text once one happened; the connection must reply it and close. */
  error: string | null = null;

  private buffer: Buffer = EMPTY;
  /** buffer.buffer and buffer.byteOffset, read once per buffer (see bufferView). */
  private memory: ArrayBufferLike = EMPTY.buffer;
  private base = EMPTY.byteOffset;
  private position = 0;
  /** True between a multibulk header and the request's last argument. */
  private inMultibulk = false;
  /** Arguments still expected in the current multibulk request. */
  private argsRemaining = 0;
  private args: Buffer[] = NO_ARGS;
  /** Arguments of the current request read so far. */
  private argsRead = 0;
  /** Length of the bulk whose header was read and whose data is pending; -1 if none. */
  private bulkLength = -1;
  /**
   * Chunks held back until they can complete something: while a header line lacks its LF,
   * or a bulk lacks bytes, joining every tiny chunk into the buffer would cost quadratic
   * time (a client trickling bytes could burn CPU); they are joined once, when useful.
   */
  private deferred: Buffer[] = [];
  private deferredBytes = 0;
  /** What the parser waits for: a line end (CR or LF), a byte count, or anything. */
  private waitingForLine = false;
  private waitingForBytes = 0;
  /** A big argument received straight into its own buffer (see BIG_ARGUMENT_BYTES). */
  private bigArgument: Buffer | null = null;
  private bigArgumentFilled = 0;

  constructor(private readonly limits: DecoderLimits) {}

  /** Bytes received and not yet consumed (the query buffer, for limits and CLIENT LIST). */
  get bufferedBytes(): number {
    return this.buffer.length - this.position + this.deferredBytes + this.bigArgumentFilled;
  }

  push(chunk: Buffer): void {
    if (this.bigArgument !== null) {
      chunk = this.fillBigArgument(chunk);
      if (chunk.length === 0) return;
    }
    if (chunk.length === 0) return;
    const unconsumed = this.buffer.length - this.position + this.deferredBytes + chunk.length;
    const useless = (this.waitingForLine && chunk.indexOf(LF) === -1 &&
        chunk.indexOf(CR) === -1 && unconsumed <= INLINE_BYTES_MAX) ||
      (this.waitingForBytes > 0 && unconsumed < this.waitingForBytes);
    if (useless) {
      this.deferred.push(chunk);
      this.deferredBytes += chunk.length;
      return;
    }
    this.waitingForLine = false;
    this.waitingForBytes = 0;
    // The usual case, a chunk of whole requests after the last one was consumed: no array.
    if (this.deferred.length === 0 && this.position >= this.buffer.length) {
      this.setBuffer(chunk);
      return;
    }
    const parts = this.deferred;
    parts.push(chunk);
    this.deferred = [];
    this.deferredBytes = 0;
    if (this.position < this.buffer.length) parts.unshift(this.buffer.subarray(this.position));
    this.setBuffer(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
  }

  private setBuffer(buffer: Buffer): void {
    this.buffer = buffer;
    this.memory = buffer.buffer;
    this.base = buffer.byteOffset;
    this.position = 0;
  }

  /**
   * The next complete request, or null when more bytes are needed or a protocol error
   * happened (then `error` is set). An empty inline line or `*0` yields an empty array,
   * which the caller ignores, as Redis does.
   */
  next(): Buffer[] | null {
    if (this.error !== null || this.bigArgument !== null) return null;
    if (!this.inMultibulk) {
      if (this.position >= this.buffer.length) return null;
      if (this.buffer[this.position] !== STAR) return this.nextInline();
      if (!this.readMultibulkHeader()) return null;
      if (this.argsRemaining === 0) return [];
      this.inMultibulk = true;
    }
    return this.readArguments();
  }

  private nextInline(): Buffer[] | null {
    const buffer = this.buffer;
    const newline = cLineEnd(buffer, this.position, LF);
    if (newline === -1) {
      if (buffer.length - this.position > INLINE_BYTES_MAX) {
        this.error = 'Protocol error: too big inline request';
      }
      this.waitingForLine = true;
      return null;
    }
    let end = newline;
    if (end > this.position && buffer[end - 1] === CR) end--;
    const line = buffer.subarray(this.position, end);
    this.position = newline + 1;
    const args = splitArgs(line);
    if (args === null) {
      this.error = 'Protocol error: unbalanced quotes in request';
      return null;
    }
    return args;
  }

  /** Reads `*N\r\n`. Returns false when the line is incomplete or invalid. */
  private readMultibulkHeader(): boolean {
    const buffer = this.buffer;
    const start = this.position;
    const cr = cLineEnd(buffer, start, CR);
    if (cr === -1) {
      if (buffer.length - start > INLINE_BYTES_MAX) {
        this.error = 'Protocol error: too big mbulk count string';
      }
      this.waitingForLine = true;
      return false;
    }
    if (cr + 1 >= buffer.length) return false;
    const count = parseInteger(buffer, start + 1, cr);
    if (Number.isNaN(count) || count > MULTIBULK_COUNT_MAX) {
      this.error = 'Protocol error: invalid multibulk length';
      return false;
    }
    if (count > UNAUTHENTICATED_ARGS_MAX && this.authRequired) {
      this.error = 'Protocol error: unauthenticated multibulk length';
      return false;
    }
    this.position = cr + 2;
    this.argsRemaining = count > 0 ? count : 0;
    this.args = new Array<Buffer>(Math.min(this.argsRemaining, ARGS_PRESIZED_MAX));
    this.argsRead = 0;
    return true;
  }

  private readArguments(): Buffer[] | null {
    while (this.argsRemaining > 0) {
      if (this.bulkLength === -1 && !this.readBulkHeader()) return null;
      const buffer = this.buffer;
      const length = this.bulkLength;
      const available = buffer.length - this.position;
      if (available < length + 2) {
        if (length >= BIG_ARGUMENT_BYTES) this.startBigArgument();
        else this.waitingForBytes = length + 2;
        return null;
      }
      this.args[this.argsRead++] = bufferView(this.memory, this.base + this.position, length);
      this.position += length + 2;
      this.bulkLength = -1;
      this.argsRemaining--;
    }
    const args = this.args;
    this.args = NO_ARGS;
    this.inMultibulk = false;
    return args;
  }

  /** Reads `$len\r\n`. Returns false when the line is incomplete or invalid. */
  private readBulkHeader(): boolean {
    const buffer = this.buffer;
    const start = this.position;
    if (start >= buffer.length) return false;
    const cr = cLineEnd(buffer, start, CR);
    if (cr === -1) {
      if (buffer.length - start > INLINE_BYTES_MAX) {
        this.error = 'Protocol error: too big bulk count string';
      }
      this.waitingForLine = true;
      return false;
    }
    if (cr + 1 >= buffer.length) return false;
    const marker = buffer[start] as number;
    if (marker !== DOLLAR) {
      const shown = marker === CR || marker === LF ? ' ' : String.fromCharCode(marker);
      this.error = `Protocol error: expected '$', got '${shown}'`;
      return false;
    }
    const length = parseInteger(buffer, start + 1, cr);
    if (Number.isNaN(length) || length < 0 || length > this.limits.bulkBytesMax) {
      this.error = 'Protocol error: invalid bulk length';
      return false;
    }
    if (length > UNAUTHENTICATED_BULK_BYTES_MAX && this.authRequired) {
      this.error = 'Protocol error: unauthenticated bulk length';
      return false;
    }
    this.position = cr + 2;
    this.bulkLength = length;
    return true;
  }

  /** Moves the partial bulk into an exact-size buffer that later chunks fill directly. */
  private startBigArgument(): void {
    const big = Buffer.allocUnsafe(this.bulkLength + 2);
    const copied = this.buffer.copy(big, 0, this.position);
    this.bigArgument = big;
    this.bigArgumentFilled = copied;
    this.setBuffer(EMPTY);
  }

  /** Copies what the big argument still needs from `chunk`; returns the rest of the chunk. */
  private fillBigArgument(chunk: Buffer): Buffer {
    const big = this.bigArgument as Buffer;
    const needed = big.length - this.bigArgumentFilled;
    const taken = Math.min(needed, chunk.length);
    chunk.copy(big, this.bigArgumentFilled, 0, taken);
    this.bigArgumentFilled += taken;
    if (this.bigArgumentFilled < big.length) return EMPTY;
    this.args[this.argsRead++] = big.subarray(0, big.length - 2);
    this.bigArgument = null;
    this.bigArgumentFilled = 0;
    this.bulkLength = -1;
    this.argsRemaining--;
    return chunk.subarray(taken);
  }
}

/**
 * Bytes a header line is scanned for its end in JavaScript before indexOf takes over: header
 * lines (`$100`, `*3`) are a few bytes, and indexOf's call into C++ cost more than the scan
 * (decoder micro-benchmark, 16 pipelined SETs: 441k -> 638k decodes/s; bench/RESULTS.md).
 */
const LINE_SCAN_BYTES = 32;

/**
 * Where Redis's strchr finds `byte` from `start`: like indexOf, but a NUL byte before it
 * ends the C string, so the line counts as incomplete (Redis then waits for more input).
 */
function cLineEnd(buffer: Buffer, start: number, byte: number): number {
  const scanEnd = Math.min(buffer.length, start + LINE_SCAN_BYTES);
  for (let index = start; index < scanEnd; index++) {
    const value = buffer[index] as number;
    if (value === byte) return index;
    if (value === 0) return -1;
  }
  if (scanEnd === buffer.length) return -1;
  const found = buffer.indexOf(byte, scanEnd);
  if (found === -1) return -1;
  for (let index = scanEnd; index < found; index++) if (buffer[index] === 0) return -1;
  return found;
}

/**
 * Parses a decimal integer in buffer[start, end) with Redis string2ll rules: optional '-',
 * no '+', no leading zeros, no spaces, at most 19 digits. Returns NaN when invalid.
 */
export function parseInteger(buffer: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length <= 0 || length > 20) return NaN;
  let index = start;
  let negative = false;
  if (buffer[index] === 45) {
    negative = true;
    index++;
    if (index === end) return NaN;
  }
  const first = buffer[index] as number;
  if (first === 48) return index + 1 === end && !negative ? 0 : NaN;
  if (first < 49 || first > 57) return NaN;
  let value = 0;
  const digitsStart = index;
  for (; index < end; index++) {
    const digit = (buffer[index] as number) - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  // string2ll rejects anything outside int64; beyond 2^53 the double is inexact, so compare
  // the digits themselves against the int64 limits.
  const digits = end - digitsStart;
  if (digits > 19) return NaN;
  if (digits === 19) {
    const limit = negative ? INT64_MIN_DIGITS : INT64_MAX_DIGITS;
    if (buffer.latin1Slice(digitsStart, end) > limit) return NaN;
  }
  return negative ? -value : value;
}

const INT64_MAX_DIGITS = '9223372036854775807';
const INT64_MIN_DIGITS = '9223372036854775808';
