/**
 * Number parsing and formatting with Redis's rules: integers are signed 64-bit and parsed
 * strictly (string2ll: no spaces, no '+', no leading zeros); INCRBYFLOAT works on decimal
 * values and prints them with %.17Lf trimmed, as Redis does with long doubles.
 */
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

/** An exact decimal: mantissa * 10^exponent. */
interface Decimal {
  mantissa: bigint;
  exponent: number;
}

const DECIMAL_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** strtold accepts exponents this large; beyond it long double overflows anyway. */
const EXPONENT_LIMIT = 4950;

/**
 * Parses what Redis's getLongDoubleFromObject accepts (strtold: decimal with optional
 * exponent, inf/infinity), rejecting leading spaces, trailing bytes and nan.
 * Returns 'inf' / '-inf' for infinities, null when invalid.
 */
export function parseDecimal(bytes: Buffer): Decimal | 'inf' | '-inf' | null {
  const text = bytes.latin1Slice();
  if (text.length === 0 || text.length > 5000) return null;
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') {
    return 'inf';
  }
  if (lower === '-inf' || lower === '-infinity') return '-inf';
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) return null;
  const [, sign, whole = '', fraction = '', exponentText] = match;
  if (whole.length === 0 && fraction.length === 0) return null;
  const exponent = (exponentText === undefined ? 0 : Number(exponentText)) - fraction.length;
  if (Math.abs(exponent) > EXPONENT_LIMIT) return null;
  let mantissa = BigInt(`${whole}${fraction}` || '0');
  if (sign === '-') mantissa = -mantissa;
  return { mantissa, exponent };
}

export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const exponent = Math.min(a.exponent, b.exponent);
  const scaledA = a.mantissa * 10n ** BigInt(a.exponent - exponent);
  const scaledB = b.mantissa * 10n ** BigInt(b.exponent - exponent);
  return { mantissa: scaledA + scaledB, exponent };
}

/** Formats like Redis's humanfriendly long double: %.17Lf, trailing zeros and dot removed. */
export function formatDecimal(value: Decimal): string {
  const decimals = 17;
  let scaled: bigint;
  const shift = value.exponent + decimals;
  if (shift >= 0) {
    scaled = value.mantissa * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    const negative = value.mantissa < 0n;
    const magnitude = negative ? -value.mantissa : value.mantissa;
    let quotient = magnitude / divisor;
    const remainder = magnitude % divisor;
    // Round half to even, as printf does for an exactly representable tie.
    if (remainder * 2n > divisor || (remainder * 2n === divisor && quotient % 2n === 1n)) {
      quotient += 1n;
    }
    scaled = negative ? -quotient : quotient;
  }
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals).replace(/0+$/, '');
  const text = fraction.length > 0 ? `${whole}.${fraction}` : whole;
  return negative && text !== '0' ? `-${text}` : text;
}

/** True when the decimal is too large for a long double (Redis: NaN or Infinity). */
export function isDecimalOverflow(value: Decimal): boolean {
  if (value.mantissa === 0n) return false;
  const digits = (value.mantissa < 0n ? -value.mantissa : value.mantissa).toString().length;
  return digits + value.exponent > 4932;
}
