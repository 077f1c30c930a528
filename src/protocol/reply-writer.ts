/**
 * Encodes RESP2 / RESP3 replies into a slab-allocated byte buffer. Replies of one input chunk
 * accumulate here and leave in one socket write (STYLE.md section 8). `take()` hands out the
 * bytes written so far as zero-copy slices; a slab is never written again after a slice of
 * it was handed out, so the socket may hold slices for as long as it needs.
 *
 * Values of BIG_VALUE_BYTES or more get a buffer of their own, queued as their own chunk
 * (not copied into the slab). They are copied all the same: a value may be a view of a
 * buffer its owner reuses (lmdb-js reads), and a slow reader may hold replies for long.
 */
export type Protocol = 2 | 3;

const SLAB_BYTES = 64 * 1024;
const BIG_VALUE_BYTES = 16 * 1024;

const CRLF_0 = 13;
const CRLF_1 = 10;

export const OK = Buffer.from('+OK\r\n');
const PONG = Buffer.from('+PONG\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const NULL_ARRAY = Buffer.from('*-1\r\n');
const NULL_RESP3 = Buffer.from('_\r\n');
const ZERO = Buffer.from(':0\r\n');
const ONE = Buffer.from(':1\r\n');
const EMPTY_ARRAY = Buffer.from('*0\r\n');

/** Pre-encoded `$<n>\r\n` headers for the most common value sizes. */
const BULK_HEADERS: Buffer[] = [];
for (let length = 0; length < 1024; length++) BULK_HEADERS.push(Buffer.from(`$${length}\r\n`));

export class ReplyWriter {
  protocol: Protocol = 2;
  /** Errors written since creation, by the caller's accounting (failed_calls, errorstats). */
  errorsWritten = 0;
  /** Called with the error prefix (`ERR`, `WRONGTYPE`, ...) of every error written. */
  onError: ((prefix: string) => void) | null = null;

  private slab: Buffer;
  private start = 0;
  private position = 0;
  /** Finished chunks (slab slices and big values) waiting for take(). */
  private chunks: Buffer[] = [];

  constructor(slabBytes: number = SLAB_BYTES) {
    this.slab = Buffer.allocUnsafe(slabBytes);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    let total = this.position - this.start;
    for (const chunk of this.chunks) total += chunk.length;
    return total;
  }

  get isEmpty(): boolean {
    return this.position === this.start && this.chunks.length === 0;
  }

  /** Returns everything written since the last take, in order, or null when nothing was. */
  take(): Buffer[] | null {
    if (this.chunks.length === 0) {
      // The usual case, one run of slab bytes: an array of exactly one (pushing onto an
      // empty array allocates room for 17).
      return this.position > this.start ? [this.takeRun()] : null;
    }
    this.sealSlab();
    const chunks = this.chunks;
    this.chunks = [];
    return chunks;
  }

  /** Drops everything written since the last take (a slot's reply replaced by an error). */
  discard(): void {
    this.position = this.start;
    this.chunks = [];
  }

  /** Appends another writer's pending output (a completed reply slot) to this one. */
  append(other: ReplyWriter): void {
    const chunks = other.take();
    if (chunks === null) return;
    for (const chunk of chunks) this.raw(chunk);
  }

  raw(bytes: Buffer): void {
    if (bytes.length >= BIG_VALUE_BYTES) {
      this.sealSlab();
      this.chunks.push(bytes);
      return;
    }
    this.reserve(bytes.length);
    this.position = copyInto(this.slab, this.position, bytes);
  }

  ok(): void {
    this.raw(OK);
  }

  pong(): void {
    this.raw(PONG);
  }

  /** A status reply; `text` is latin1 (one byte per character), like error texts. */
  simple(text: string): void {
    this.reserve(text.length + 3);
    this.slab[this.position++] = 43; // '+'
    this.position += this.slab.write(text, this.position, 'latin1');
    this.crlf();
  }

  /**
   * `text` carries its prefix (`ERR ...`, `WRONGTYPE ...`) and is a latin1 string (one byte
   * per character, see protocol/errors.ts); CR and LF become spaces.
   */
  error(text: string): void {
    const clean = text.includes('\r') || text.includes('\n')
      ? text.replace(/[\r\n]/g, ' ')
      : text;
    this.errorsWritten++;
    if (this.onError !== null) {
      const space = clean.indexOf(' ');
      this.onError(space === -1 ? clean : clean.slice(0, space));
    }
    this.reserve(clean.length + 3);
    this.slab[this.position++] = 45; // '-'
    this.position += this.slab.write(clean, this.position, 'latin1');
    this.crlf();
  }

  integer(value: number | bigint): void {
    if (typeof value === 'bigint') return this.simpleWithPrefix(58, value.toString());
    if (value === 0) return this.raw(ZERO);
    if (value === 1) return this.raw(ONE);
    this.reserve(24);
    this.slab[this.position++] = 58; // ':'
    this.digits(value);
    this.crlf();
  }

  bulk(value: Buffer): void {
    const length = value.length;
    if (length >= BIG_VALUE_BYTES) {
      this.header(36, length);
      this.raw(Buffer.from(value));
      this.reserve(2);
      this.crlf();
      return;
    }
    this.reserve(length + 16);
    if (length < 1024) {
      this.position = copyInto(this.slab, this.position, BULK_HEADERS[length] as Buffer);
    } else {
      this.slab[this.position++] = 36; // '$'
      this.digits(length);
      this.crlf();
    }
    this.position = copyInto(this.slab, this.position, value);
    this.crlf();
  }

  bulkString(value: string): void {
    this.bulk(Buffer.from(value, 'utf8'));
  }

  /** A missing value: `$-1` in RESP2, `_` in RESP3. */
  nil(): void {
    this.raw(this.protocol === 3 ? NULL_RESP3 : NULL_BULK);
  }

  /** A missing aggregate: `*-1` in RESP2, `_` in RESP3. */
  nilArray(): void {
    this.raw(this.protocol === 3 ? NULL_RESP3 : NULL_ARRAY);
  }

  arrayHeader(count: number): void {
    if (count === 0) return this.raw(EMPTY_ARRAY);
    this.header(42, count);
  }

  /** RESP3 map `%n`; in RESP2 a flat array of 2n elements. */
  mapHeader(pairs: number): void {
    if (this.protocol === 3) this.header(37, pairs);
    else this.arrayHeader(pairs * 2);
  }

  /** RESP3 set `~n`; in RESP2 an array. */
  setHeader(count: number): void {
    if (this.protocol === 3) this.header(126, count);
    else this.arrayHeader(count);
  }

  /** RESP3 boolean; in RESP2 the integers 1 and 0. */
  boolean(value: boolean): void {
    if (this.protocol === 3) this.raw(value ? TRUE_RESP3 : FALSE_RESP3);
    else this.raw(value ? ONE : ZERO);
  }

  /** RESP3 double `,x`; in RESP2 a bulk string. Formatted like Redis 7.0 (`%.17g`). */
  double(value: number): void {
    const text = formatDouble(value);
    if (this.protocol === 3) this.simpleWithPrefix(44, text);
    else this.bulkString(text);
  }

  /** RESP3 verbatim string `=len\r\ntxt:...`; in RESP2 a bulk string. */
  verbatim(text: string): void {
    if (this.protocol !== 3) return this.bulkString(text);
    const body = Buffer.from(`txt:${text}`, 'utf8');
    this.header(61, body.length);
    this.raw(body);
    this.reserve(2);
    this.crlf();
  }

  private simpleWithPrefix(prefix: number, text: string): void {
    this.reserve(text.length + 3);
    this.slab[this.position++] = prefix;
    this.position += this.slab.write(text, this.position, 'latin1');
    this.crlf();
  }

  private header(prefix: number, count: number): void {
    this.reserve(24);
    this.slab[this.position++] = prefix;
    this.digits(count);
    this.crlf();
  }

  private crlf(): void {
    this.slab[this.position++] = CRLF_0;
    this.slab[this.position++] = CRLF_1;
  }

  /** Writes a safe integer in decimal without allocating a string. */
  private digits(value: number): void {
    if (!Number.isSafeInteger(value)) {
      this.position += this.slab.write(BigInt(Math.trunc(value)).toString(), this.position,
        'latin1');
      return;
    }
    if (value < 0) {
      this.slab[this.position++] = 45;
      value = -value;
    }
    let divisor = 1;
    while (divisor * 10 <= value) divisor *= 10;
    while (divisor >= 1) {
      const digit = Math.floor(value / divisor);
      this.slab[this.position++] = 48 + digit;
      value -= digit * divisor;
      divisor /= 10;
    }
  }

  /**
   * The shared constant whose bytes are exactly those written since the last take (+OK,
   * :1 or :0), or null. Most flushes of a SET (and of a replica's PEER.PUT) carry one such
   * reply: the constant goes to the socket instead of a new view of the slab, one object
   * less per reply for the young-generation collector.
   */
  private sharedReply(): Buffer | null {
    const length = this.position - this.start;
    if (length !== 5 && length !== 4) return null;
    const slab = this.slab;
    const at = this.start;
    const candidate = length === 5 ? OK : slab[at + 1] === 49 ? ONE : ZERO;
    for (let index = 0; index < length; index++) {
      if (slab[at + index] !== candidate[index]) return null;
    }
    return candidate;
  }

  /** Makes room for `bytes` more bytes, moving to a fresh slab when this one is full. */
  private reserve(bytes: number): void {
    if (this.position + bytes <= this.slab.length) return;
    this.sealSlab();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
    this.start = 0;
    this.position = 0;
  }

  /** Moves the bytes written into the slab since the last take into the chunk list. */
  private sealSlab(): void {
    if (this.position > this.start) this.chunks.push(this.takeRun());
  }

  /** The slab bytes written since the last take, as a shared constant or a view. */
  private takeRun(): Buffer {
    const run = this.sharedReply() ?? this.slab.subarray(this.start, this.position);
    this.start = this.position;
    return run;
  }
}

/** Below this size a byte loop beats a native copy's fixed cost (headers, +OK, nil). */
const LOOP_COPY_BYTES_MAX = 16;

/**
 * Copies `bytes` into `slab` at `position` and returns the position after them. Replaces
 * Buffer#copy on the reply path: its argument checks and view creation cost more than the
 * copy itself for the small replies most commands write.
 */
function copyInto(slab: Buffer, position: number, bytes: Buffer): number {
  const length = bytes.length;
  if (length <= LOOP_COPY_BYTES_MAX) {
    for (let index = 0; index < length; index++) slab[position + index] = bytes[index] as number;
  } else {
    slab.set(bytes, position);
  }
  return position + length;
}

const TRUE_RESP3 = Buffer.from('#t\r\n');
const FALSE_RESP3 = Buffer.from('#f\r\n');

/**
 * C's `%.17g`, which Redis 7.0 uses for doubles in replies. Computed from the double's exact
 * decimal expansion (BigInt) and rounded half to even, as printf does; toExponential would
 * round exact ties up.
 */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const negative = value < 0;
  const { digits, exponent } = significantDigits(Math.abs(value), 17);
  let text: string;
  if (exponent < -4 || exponent >= 17) {
    const mantissa = trimZeros(`${digits[0]}.${digits.slice(1)}`);
    const magnitude = Math.abs(exponent);
    text = `${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`;
  } else if (exponent >= 0) {
    text = trimZeros(`${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`);
  } else {
    text = trimZeros(`0.${'0'.repeat(-exponent - 1)}${digits}`);
  }
  return negative ? `-${text}` : text;
}

/**
 * The first `count` significant decimal digits of a positive finite double, rounded half
 * to even from its exact value, and the decimal exponent of the first digit.
 */
function significantDigits(value: number, count: number): { digits: string; exponent: number } {
  // value = mantissa * 2^binaryExponent exactly.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (biased !== 0) mantissa |= 1n << 52n;
  const binaryExponent = (biased === 0 ? 1 : biased) - 1075;
  // exact = numerator / 10^scale
  let numerator: bigint;
  let scale: number;
  if (binaryExponent >= 0) {
    numerator = mantissa << BigInt(binaryExponent);
    scale = 0;
  } else {
    numerator = mantissa * 5n ** BigInt(-binaryExponent);
    scale = -binaryExponent;
  }
  const all = numerator.toString();
  const exponent = all.length - 1 - scale;
  if (all.length <= count) return { digits: all.padEnd(count, '0'), exponent };
  let kept = BigInt(all.slice(0, count));
  const rest = all.slice(count);
  const half = `5${'0'.repeat(rest.length - 1)}`;
  if (rest > half || (rest === half && kept % 2n === 1n)) kept += 1n;
  let digits = kept.toString();
  let adjusted = exponent;
  if (digits.length > count) {
    digits = digits.slice(0, count);
    adjusted++;
  }
  return { digits, exponent: adjusted };
}

function trimZeros(text: string): string {
  if (!text.includes('.')) return text;
  return text.replace(/0+$/, '').replace(/\.$/, '');
}
