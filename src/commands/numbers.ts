/**
 * Number parsing and formatting with Redis's rules: integers are signed 64-bit and parsed
 * strictly (string2ll: no spaces, no '+', no leading zeros); INCRBYFLOAT computes in an
 * emulated x86 long double and prints with %.17Lf trimmed, as Redis does.
 */
import { errors } from '../protocol/errors.js';
import { parseInteger } from '../protocol/request-decoder.js';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/**
 * A strict signed 64-bit integer, or null. Returns a number when it is a safe integer (the
 * common case, no BigInt on the hot path) and a bigint otherwise.
 */
export function parseInt64(bytes: Buffer): number | bigint | null {
  if (bytes.length < 16) {
    const value = parseInteger(bytes, 0, bytes.length);
    return Number.isNaN(value) ? null : value;
  }
  const text = bytes.latin1Slice();
  if (!/^-?[1-9][0-9]*$/.test(text) && text !== '0') return null;
  const value = BigInt(text);
  if (value > INT64_MAX || value < INT64_MIN) return null;
  return Number.isSafeInteger(Number(value)) ? Number(value) : value;
}

/** A strict integer that fits in a JS number exactly (|n| < 2^53), or null. */
export function parseSafeInteger(bytes: Buffer): number | null {
  const value = parseInt64(bytes);
  return typeof value === 'number' ? value : null;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * A C int as Redis's getIntFromObjectOrReply reads it: not an int64 is "not an integer",
 * an int64 outside the int range is "out of range". Returns the value or the error text.
 */
export function parseInt32(bytes: Buffer): number | string {
  const value = parseInt64(bytes);
  if (value === null) return errors.notInteger;
  if (value < INT32_MIN || value > INT32_MAX) return errors.outOfRange(INT32_MIN, INT32_MAX);
  return Number(value);
}

/** Adds two int64 values; null on overflow. */
export function addInt64(a: number | bigint, b: number | bigint): number | bigint | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  if (sum > INT64_MAX || sum < INT64_MIN) return null;
  return Number.isSafeInteger(Number(sum)) ? Number(sum) : sum;
}

export function int64Bytes(value: number | bigint): Buffer {
  return Buffer.from(String(value), 'latin1');
}

/**
 * An x86 80-bit long double, the type Redis's INCRBYFLOAT computes in: the value is
 * (-1)^negative * significand * 2^exponent with a 64-bit significand. Zero has significand 0.
 * Emulated exactly with BigInt, so results match Redis byte for byte, rounding included.
 */
export interface LongDouble {
  negative: boolean;
  significand: bigint;
  exponent: number;
}

const SIGNIFICAND_BITS = 64;
const SIGNIFICAND_MIN = 1n << 63n;
const SIGNIFICAND_LIMIT = 1n << 64n;
/** The smallest subnormal is 2^-16445 (normal minimum 2^-16382, 63 fraction bits). */
const EXPONENT_MIN = -16445;
/** Values reach 2^16384 (exclusive), so the largest significand scale is 2^(16384 - 64). */
const EXPONENT_MAX = 16384 - SIGNIFICAND_BITS;
/** Redis's MAX_LONG_DOUBLE_CHARS: longer strings are not floats (string2ld). */
const LONG_DOUBLE_CHARS_MAX = 5 * 1024;
/** Decimal orders of magnitude beyond which a long double overflows or underflows to 0. */
const DECIMAL_ORDER_MAX = 4933;
const DECIMAL_ORDER_MIN = -4952;

const ZERO: LongDouble = { negative: false, significand: 0n, exponent: 0 };

const DECIMAL_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const HEX_PATTERN = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const INFINITY_PATTERN = /^[+-]?(inf|infinity)$/i;

/**
 * Parses what Redis's string2ld accepts: strtold syntax (decimal or hexadecimal, with an
 * optional exponent, or inf/infinity) filling the whole string (so no NUL byte), no leading
 * space, no NaN, no overflow and no underflow to zero. Returns 'inf' for infinities, null
 * when invalid.
 */
export function parseLongDouble(bytes: Buffer): LongDouble | 'inf' | null {
  if (bytes.length === 0 || bytes.length >= LONG_DOUBLE_CHARS_MAX) return null;
  // strtold stops at a NUL byte, and string2ld wants every byte consumed.
  if (bytes.includes(0)) return null;
  const text = bytes.latin1Slice();
  if (INFINITY_PATTERN.test(text)) return 'inf';
  const hex = HEX_PATTERN.exec(text);
  if (hex !== null) return parseHexadecimal(hex);
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return null;
  const [, sign = '', whole = '', fraction = '', exponentText] = match;
  if (whole.length === 0 && fraction.length === 0) return null;
  const digits = BigInt(`${whole}${fraction}`);
  if (digits === 0n) return { ...ZERO, negative: sign === '-' };
  const exponent = (exponentText === undefined ? 0 : Number(exponentText)) - fraction.length;
  const length = digits.toString().length;
  if (length - 1 + exponent > DECIMAL_ORDER_MAX || length + exponent < DECIMAL_ORDER_MIN) {
    return null;
  }
  const scale = 10n ** BigInt(Math.abs(exponent));
  const rounded = exponent >= 0 ? roundToLongDouble(sign === '-', digits * scale, 1n)
    : roundToLongDouble(sign === '-', digits, scale);
  // Overflow (HUGE_VAL) and underflow to zero set ERANGE, which Redis refuses.
  return rounded === 'inf' || rounded.significand === 0n ? null : rounded;
}

function parseHexadecimal(match: RegExpExecArray): LongDouble | null {
  const [, sign = '', whole = '', fraction = '', exponentText] = match;
  if (whole.length === 0 && fraction.length === 0) return null;
  const digits = BigInt(`0x${whole}${fraction}`);
  if (digits === 0n) return { ...ZERO, negative: sign === '-' };
  const exponent = (exponentText === undefined ? 0 : Number(exponentText)) -
    4 * fraction.length;
  const bits = digits.toString(2).length;
  if (bits + exponent > EXPONENT_MAX + SIGNIFICAND_BITS + 1 ||
      bits + exponent < EXPONENT_MIN - 1) {
    return null;
  }
  const scale = 1n << BigInt(Math.abs(exponent));
  const rounded = exponent >= 0 ? roundToLongDouble(sign === '-', digits * scale, 1n)
    : roundToLongDouble(sign === '-', digits, scale);
  return rounded === 'inf' || rounded.significand === 0n ? null : rounded;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/**
 * Rounds the exact positive rational numerator / denominator to the nearest long double
 * (ties to even, gradual underflow), as the x87 unit and strtold do. 'inf' on overflow.
 */
function roundToLongDouble(negative: boolean, numerator: bigint,
    denominator: bigint): LongDouble | 'inf' {
  if (numerator === 0n) return { ...ZERO, negative };
  let exponent = bitLength(numerator) - bitLength(denominator) - SIGNIFICAND_BITS;
  if (exponent < EXPONENT_MIN) exponent = EXPONENT_MIN;
  for (;;) {
    const [quotient] = divideScaled(numerator, denominator, exponent);
    if (quotient >= SIGNIFICAND_LIMIT) exponent++;
    else if (quotient < SIGNIFICAND_MIN && exponent > EXPONENT_MIN) exponent--;
    else break;
  }
  let [significand, remainder, divisor] = divideScaled(numerator, denominator, exponent);
  if (remainder * 2n > divisor || (remainder * 2n === divisor && (significand & 1n) === 1n)) {
    significand += 1n;
    if (significand === SIGNIFICAND_LIMIT) {
      significand = SIGNIFICAND_MIN;
      exponent++;
    }
  }
  if (exponent > EXPONENT_MAX) return 'inf';
  return { negative, significand, exponent };
}

/** floor(numerator / (denominator * 2^exponent)), the remainder and the divisor used. */
function divideScaled(numerator: bigint, denominator: bigint,
    exponent: number): [bigint, bigint, bigint] {
  const scaledNumerator = exponent < 0 ? numerator << BigInt(-exponent) : numerator;
  const divisor = exponent > 0 ? denominator << BigInt(exponent) : denominator;
  return [scaledNumerator / divisor, scaledNumerator % divisor, divisor];
}

/** a + b rounded to a long double, or 'inf' when the sum overflows. */
export function addLongDoubles(a: LongDouble, b: LongDouble): LongDouble | 'inf' {
  const exponent = Math.min(a.exponent, b.exponent);
  const scaledA = a.significand << BigInt(a.exponent - exponent);
  const scaledB = b.significand << BigInt(b.exponent - exponent);
  const sum = (a.negative ? -scaledA : scaledA) + (b.negative ? -scaledB : scaledB);
  if (sum === 0n) return { ...ZERO, negative: a.negative && b.negative };
  const magnitude = sum < 0n ? -sum : sum;
  const numerator = exponent >= 0 ? magnitude << BigInt(exponent) : magnitude;
  const denominator = exponent >= 0 ? 1n : 1n << BigInt(-exponent);
  return roundToLongDouble(sum < 0n, numerator, denominator);
}

/**
 * Formats like Redis's ld2string in human-friendly mode: printf("%.17Lf") of the exact
 * value (ties to even), trailing zeros and a trailing dot removed, "-0" shown as "0".
 */
export function formatLongDouble(value: LongDouble): string {
  const decimals = 17;
  // significand * 2^exponent as mantissa * 10^shiftExponent, exactly.
  let mantissa: bigint;
  let exponent10: number;
  if (value.exponent >= 0) {
    mantissa = value.significand << BigInt(value.exponent);
    exponent10 = 0;
  } else {
    mantissa = value.significand * 5n ** BigInt(-value.exponent);
    exponent10 = value.exponent;
  }
  let scaled: bigint;
  const shift = exponent10 + decimals;
  if (shift >= 0) {
    scaled = mantissa * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    scaled = mantissa / divisor;
    const remainder = mantissa % divisor;
    if (remainder * 2n > divisor || (remainder * 2n === divisor && scaled % 2n === 1n)) {
      scaled += 1n;
    }
  }
  const digits = scaled.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  const text = fraction.length > 0 ? `${whole}.${fraction}` : whole;
  return value.negative && text !== '0' ? `-${text}` : text;
}
