/**
 * Small, deliberately naive models of the Redis 7.0 behaviours our pure modules reproduce.
 * Property tests compare the optimised implementations in src/ against these. Each model is
 * written for clarity, not speed, and is structured differently from the code under test
 * (token lists and memoised recursion instead of single-pass state machines), so a shared
 * mistake is unlikely. Where a model follows a Redis quirk, the comment says so.
 */

const CR = 13;
const LF = 10;

/** C isspace() in the "C" locale. */
function isCSpace(byte: number): boolean {
  return byte === 32 || (byte >= 9 && byte <= 13);
}

function hexDigit(byte: number): number {
  const text = String.fromCharCode(byte);
  return /^[0-9a-fA-F]$/.test(text) ? parseInt(text, 16) : -1;
}

/**
 * sdssplitargs: the C code reads a NUL-terminated string, so everything from the first NUL
 * on is invisible to it. Returns null where the C code returns NULL (unbalanced quotes or a
 * closing quote glued to the next character).
 */
export function referenceSplitArgs(line: Uint8Array): Buffer[] | null {
  const nul = line.indexOf(0);
  const bytes = Array.from(nul === -1 ? line : line.subarray(0, nul));
  const result: Buffer[] = [];
  let index = 0;
  const peek = (offset: number): number | undefined => bytes[index + offset];
  while (true) {
    while (index < bytes.length && isCSpace(bytes[index] as number)) index++;
    if (index >= bytes.length) return result;
    const token: number[] = [];
    let quote: 'none' | 'double' | 'single' = 'none';
    for (;;) {
      const byte = peek(0);
      if (quote === 'double') {
        if (byte === undefined) return null;
        if (byte === 0x5c && peek(1) === 0x78 && hexDigit(peek(2) ?? 0) >= 0 &&
            hexDigit(peek(3) ?? 0) >= 0) {
          token.push(hexDigit(peek(2) as number) * 16 + hexDigit(peek(3) as number));
          index += 4;
        } else if (byte === 0x5c && peek(1) !== undefined) {
          const escaped = peek(1) as number;
          const mapped: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, a: 7 };
          token.push(mapped[String.fromCharCode(escaped)] ?? escaped);
          index += 2;
        } else if (byte === 0x22) {
          const after = peek(1);
          if (after !== undefined && !isCSpace(after)) return null;
          index++;
          break;
        } else {
          token.push(byte);
          index++;
        }
      } else if (quote === 'single') {
        if (byte === undefined) return null;
        if (byte === 0x5c && peek(1) === 0x27) {
          token.push(0x27);
          index += 2;
        } else if (byte === 0x27) {
          const after = peek(1);
          if (after !== undefined && !isCSpace(after)) return null;
          index++;
          break;
        } else {
          token.push(byte);
          index++;
        }
      } else if (byte === undefined) {
        break;
      } else if (byte === 32 || byte === 10 || byte === 13 || byte === 9) {
        // Only these four end an unquoted token (VT and FF do not, though isspace() skips
        // them between tokens): a quirk of the C switch statement.
        index++;
        break;
      } else if (byte === 0x22) {
        quote = 'double';
        index++;
      } else if (byte === 0x27) {
        quote = 'single';
        index++;
      } else {
        token.push(byte);
        index++;
      }
    }
    result.push(Buffer.from(token));
  }
}

type GlobToken =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'literal'; byte: number }
  | { kind: 'class'; test: (byte: number) => boolean };

function lower(byte: number): number {
  return byte >= 65 && byte <= 90 ? byte + 32 : byte;
}

/** Splits a glob pattern into tokens with stringmatchlen's parsing rules. */
function globTokens(pattern: Uint8Array, nocase: boolean): GlobToken[] {
  const tokens: GlobToken[] = [];
  let p = 0;
  const same = (a: number, b: number): boolean => (nocase ? lower(a) === lower(b) : a === b);
  while (p < pattern.length) {
    const byte = pattern[p] as number;
    if (byte === 42) {
      tokens.push({ kind: 'star' });
      p++;
    } else if (byte === 63) {
      tokens.push({ kind: 'any' });
      p++;
    } else if (byte === 92 && p + 1 < pattern.length) {
      tokens.push({ kind: 'literal', byte: pattern[p + 1] as number });
      p += 2;
    } else if (byte === 91) {
      p++;
      const negate = pattern[p] === 94;
      if (negate) p++;
      const members: Array<(subject: number) => boolean> = [];
      while (p < pattern.length && pattern[p] !== 93) {
        const remaining = pattern.length - p;
        const first = pattern[p] as number;
        if (first === 92 && remaining >= 2) {
          // Redis compares an escaped class member case-sensitively even in nocase mode.
          const literal = pattern[p + 1] as number;
          members.push((subject) => subject === literal);
          p += 2;
        } else if (remaining >= 3 && pattern[p + 1] === 45) {
          const from = Math.min(first, pattern[p + 2] as number);
          const to = Math.max(first, pattern[p + 2] as number);
          members.push((subject) => nocase
            ? lower(subject) >= lower(from) && lower(subject) <= lower(to)
            : subject >= from && subject <= to);
          p += 3;
        } else {
          members.push((subject) => same(subject, first));
          p++;
        }
      }
      p++; // the ']' (or past the end of an unterminated class)
      tokens.push({ kind: 'class',
        test: (subject) => members.some((member) => member(subject)) !== negate });
    } else {
      tokens.push({ kind: 'literal', byte });
      p++;
    }
  }
  return tokens;
}

/**
 * Redis stringmatchlen, as memoised recursion over tokens. Redis quirk kept: an empty
 * subject matches only the empty pattern (the C loop never starts, so even `*` fails).
 */
export function referenceGlobMatch(pattern: Uint8Array, subject: Uint8Array,
    nocase: boolean): boolean {
  if (subject.length === 0) return pattern.length === 0;
  const tokens = globTokens(pattern, nocase);
  const memo = new Map<number, boolean>();
  const match = (t: number, s: number): boolean => {
    const key = t * (subject.length + 1) + s;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const token = tokens[t];
    if (token === undefined) {
      result = s === subject.length;
    } else if (token.kind === 'star') {
      result = match(t + 1, s) || (s < subject.length && match(t, s + 1));
    } else if (s === subject.length) {
      result = false;
    } else {
      const byte = subject[s] as number;
      const ok = token.kind === 'any' ||
        (token.kind === 'literal' &&
          (nocase ? lower(token.byte) === lower(byte) : token.byte === byte)) ||
        (token.kind === 'class' && token.test(byte));
      result = ok && match(t + 1, s + 1);
    }
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

/** string2ll: the exact accepted language, as a regular expression plus a range check. */
export function referenceString2ll(text: string): bigint | null {
  if (text.length === 0 || text.length >= 21) return null;
  if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return null;
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return null;
  return value;
}

/** The exact value of a finite double as numerator / denominator (denominator 2^k). */
function exactRational(value: number): { numerator: bigint; denominator: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  return exponent >= 0
    ? { numerator: mantissa << BigInt(exponent), denominator: 1n }
    : { numerator: mantissa, denominator: 1n << BigInt(-exponent) };
}

/** Rounds |value| to 17 significant digits, half to even, as glibc's printf does. */
function seventeenDigits(value: number): { digits: bigint; exponent: number; tie: boolean } {
  const { numerator, denominator } = exactRational(value);
  let exponent = Math.floor(Math.log10(Math.abs(value)));
  for (;;) {
    const shift = 16 - exponent;
    const scaledNumerator = shift >= 0 ? numerator * 10n ** BigInt(shift) : numerator;
    const scaledDenominator = shift >= 0 ? denominator : denominator * 10n ** BigInt(-shift);
    const quotient = scaledNumerator / scaledDenominator;
    if (quotient >= 10n ** 17n) {
      exponent++;
      continue;
    }
    if (quotient < 10n ** 16n) {
      exponent--;
      continue;
    }
    const twiceRemainder = (scaledNumerator % scaledDenominator) * 2n;
    const tie = twiceRemainder === scaledDenominator;
    let digits = quotient;
    if (twiceRemainder > scaledDenominator || (tie && digits % 2n === 1n)) digits++;
    if (digits === 10n ** 17n) return { digits: 10n ** 16n, exponent: exponent + 1, tie };
    return { digits, exponent, tie };
  }
}

/** True when printing `value` with 17 significant digits has to break an exact tie. */
export function isSeventeenDigitTie(value: number): boolean {
  return Number.isFinite(value) && value !== 0 && seventeenDigits(value).tie;
}

/** C's printf("%.17g", value) with glibc's round-half-even on the exact binary value. */
export function referenceFormatG17(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const { digits, exponent } = seventeenDigits(value);
  const text = digits.toString();
  const trim = (decimal: string): string =>
    decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
  if (exponent < -4 || exponent >= 17) {
    const mantissa = trim(`${text[0]}.${text.slice(1)}`);
    const magnitude = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent >= 0) {
    return sign + trim(`${text.slice(0, exponent + 1)}.${text.slice(exponent + 1)}`);
  }
  return sign + trim(`0.${'0'.repeat(-exponent - 1)}${text}`);
}

export interface ReferenceDecodeOptions {
  authRequired: boolean;
  bulkBytesMax: number;
}

export interface ReferenceDecodeResult {
  /** Every complete request, in order; `*0`, `*-1` and empty inline lines give []. */
  requests: Buffer[][];
  /** The protocol error text that ends the connection, if any. */
  error: string | null;
}

const INLINE_MAX = 64 * 1024;

/**
 * processInputBuffer / processMultibulkBuffer / processInlineBuffer over a whole buffer at
 * once (no chunking), with Redis 7.0's checks in Redis's order.
 */
/** C's strchr on the query buffer: a NUL before the byte ends the string (not found). */
function strchr(input: Buffer, start: number, byte: number): number {
  for (let index = start; index < input.length; index++) {
    if (input[index] === 0) return -1;
    if (input[index] === byte) return index;
  }
  return -1;
}

export function referenceDecode(input: Buffer,
    options: ReferenceDecodeOptions): ReferenceDecodeResult {
  const requests: Buffer[][] = [];
  let position = 0;
  const fail = (error: string): ReferenceDecodeResult => ({ requests, error });
  const done = (): ReferenceDecodeResult => ({ requests, error: null });
  while (position < input.length) {
    if (input[position] !== 42) {
      const newline = strchr(input, position, LF);
      if (newline === -1) {
        return input.length - position > INLINE_MAX
          ? fail('Protocol error: too big inline request') : done();
      }
      const end = newline > position && input[newline - 1] === CR ? newline - 1 : newline;
      const args = referenceSplitArgs(input.subarray(position, end));
      if (args === null) return fail('Protocol error: unbalanced quotes in request');
      requests.push(args);
      position = newline + 1;
      continue;
    }
    const headerEnd = strchr(input, position, CR);
    if (headerEnd === -1) {
      return input.length - position > INLINE_MAX
        ? fail('Protocol error: too big mbulk count string') : done();
    }
    if (headerEnd + 1 >= input.length) return done();
    const count = referenceString2ll(input.subarray(position + 1, headerEnd).toString('latin1'));
    if (count === null || count > 2147483647n) {
      return fail('Protocol error: invalid multibulk length');
    }
    if (count > 10n && options.authRequired) {
      return fail('Protocol error: unauthenticated multibulk length');
    }
    position = headerEnd + 2;
    const args: Buffer[] = [];
    for (let index = 0n; index < count; index++) {
      if (position >= input.length) return done();
      const lineEnd = strchr(input, position, CR);
      if (lineEnd === -1) {
        return input.length - position > INLINE_MAX
          ? fail('Protocol error: too big bulk count string') : done();
      }
      if (lineEnd + 1 >= input.length) return done();
      const marker = input[position] as number;
      if (marker !== 36) {
        const shown = marker === CR || marker === LF ? ' ' : String.fromCharCode(marker);
        return fail(`Protocol error: expected '$', got '${shown}'`);
      }
      const length = referenceString2ll(input.subarray(position + 1, lineEnd)
        .toString('latin1'));
      if (length === null || length < 0n || length > BigInt(options.bulkBytesMax)) {
        return fail('Protocol error: invalid bulk length');
      }
      if (length > 16384n && options.authRequired) {
        return fail('Protocol error: unauthenticated bulk length');
      }
      position = lineEnd + 2;
      const size = Number(length);
      if (input.length - position < size + 2) return done();
      args.push(input.subarray(position, position + size));
      position += size + 2;
    }
    requests.push(args);
  }
  return done();
}

/** Encodes one request as a RESP multibulk. */
export function encodeMultibulk(args: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    parts.push(Buffer.from(`$${arg.length}\r\n`), Buffer.from(arg), Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Splits `bytes` at the given cut points (sorted or not, duplicates allowed). */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => Math.max(0, Math.min(bytes.length, cut))))]
    .sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    if (point > start) chunks.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  if (start < bytes.length) chunks.push(bytes.subarray(start));
  return chunks;
}
