/**
 * Expiry options of SET, SETEX, PSETEX and GETEX (EX / PX / EXAT / PXAT / KEEPTTL /
 * PERSIST) with Redis 7's validation order and messages (getExpireMillisecondsOrReply).
 */
import { errors } from '../protocol/errors.js';
import { INT64_MAX, parseInt64 } from './numbers.js';

export interface ExpiryOption {
  /** Absolute Unix milliseconds when `set`; 0 otherwise. */
  expireAtMs: number;
  keepTtl: boolean;
  persist: boolean;
  /** True when a time was given (EX, PX, EXAT or PXAT). */
  set: boolean;
}

const INT64_MAX_SECONDS = INT64_MAX / 1000n;

/**
 * `options` holds option names and their values in order, e.g. [EX, 10] or [KEEPTTL].
 * Different options together are a syntax error; one option repeated takes its last value.
 * `command` names the command in the invalid-expire message.
 */
export function parseExpiry(options: readonly Buffer[], command: string,
    nowMs: number): ExpiryOption | string {
  let chosen = '';
  let value: Buffer | null = null;
  for (let index = 0; index < options.length; index++) {
    const name = (options[index] as Buffer).latin1Slice().toUpperCase();
    if (chosen !== '' && chosen !== name) return errors.syntax;
    chosen = name;
    if (name !== 'KEEPTTL' && name !== 'PERSIST') value = options[++index] ?? null;
  }
  if (chosen === '') return { expireAtMs: 0, keepTtl: false, persist: false, set: false };
  if (chosen === 'KEEPTTL') return { expireAtMs: 0, keepTtl: true, persist: false, set: false };
  if (chosen === 'PERSIST') return { expireAtMs: 0, keepTtl: false, persist: true, set: false };
  const parsed = value === null ? null : parseInt64(value);
  if (parsed === null) return errors.notInteger;
  let milliseconds = BigInt(parsed);
  const seconds = chosen === 'EX' || chosen === 'EXAT';
  if (milliseconds <= 0n || (seconds && milliseconds > INT64_MAX_SECONDS)) {
    return errors.invalidExpire(command);
  }
  if (seconds) milliseconds *= 1000n;
  if (chosen === 'EX' || chosen === 'PX') {
    if (milliseconds > INT64_MAX - BigInt(nowMs)) return errors.invalidExpire(command);
    milliseconds += BigInt(nowMs);
  }
  return { expireAtMs: Number(milliseconds), keepTtl: false, persist: false, set: true };
}
