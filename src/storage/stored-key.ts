/**
 * LMDB key layout (DESIGN.md section 3): `[slot u16][db u8][user key]`, so a hash slot is
 * one contiguous range across all databases (cheap per-slot scans for streaming, repair and
 * CLUSTER GETKEYSINSLOT), and one database within a slot is a sub-range.
 *
 * The database byte is our addition to DESIGN.md's `[slot][key]`: a standalone Redis has 16
 * logical databases and SELECT works in every presentation (DESIGN.md section 9).
 *
 * Keys longer than STORED_KEY_INLINE_BYTES_MAX are stored as a prefix of the key plus its
 * SHA-256 digest, exactly one byte longer than the longest inline key, so the two forms can
 * never collide and LMDB's 1978-byte key limit never reaches users. The record then carries
 * the full key.
 */
import { createHash } from 'node:crypto';
import { STORED_KEY_INLINE_BYTES_MAX } from '../config/limits.js';

export const STORED_KEY_PREFIX_BYTES = 3;
const DIGEST_BYTES = 32;
/** User-key part of a digest-form stored key. */
const DIGEST_FORM_BYTES = STORED_KEY_INLINE_BYTES_MAX + 1;

export function isLongKey(key: Buffer): boolean {
  return key.length > STORED_KEY_INLINE_BYTES_MAX;
}

export function storedKey(slot: number, db: number, key: Buffer): Buffer {
  if (!isLongKey(key)) {
    const stored = Buffer.allocUnsafe(STORED_KEY_PREFIX_BYTES + key.length);
    stored[0] = slot >> 8;
    stored[1] = slot & 0xff;
    stored[2] = db;
    stored.set(key, STORED_KEY_PREFIX_BYTES);
    return stored;
  }
  const stored = Buffer.allocUnsafe(STORED_KEY_PREFIX_BYTES + DIGEST_FORM_BYTES);
  stored[0] = slot >> 8;
  stored[1] = slot & 0xff;
  stored[2] = db;
  const prefixBytes = DIGEST_FORM_BYTES - DIGEST_BYTES;
  key.copy(stored, STORED_KEY_PREFIX_BYTES, 0, prefixBytes);
  createHash('sha256').update(key).digest().copy(stored, STORED_KEY_PREFIX_BYTES + prefixBytes);
  return stored;
}

/** Stored keys up to this length get a reusable lookup buffer (see `lookupKey`). */
const LOOKUP_KEY_BYTES_MAX = 128;
const lookupKeys: Buffer[] = [];

/**
 * The stored key of (slot, db, key) in a buffer reused by the next call for a key of the
 * same length, so a GET or SET allocates no key. The caller must not keep it, nor hand it
 * to anything that keeps it; storage tables copy the keys they are given (engine.ts).
 */
export function lookupKey(slot: number, db: number, key: Buffer): Buffer {
  const length = STORED_KEY_PREFIX_BYTES + key.length;
  if (length > LOOKUP_KEY_BYTES_MAX) return storedKey(slot, db, key);
  let stored = lookupKeys[length];
  if (stored === undefined) {
    stored = Buffer.allocUnsafeSlow(length);
    lookupKeys[length] = stored;
  }
  stored[0] = slot >> 8;
  stored[1] = slot & 0xff;
  stored[2] = db;
  stored.set(key, STORED_KEY_PREFIX_BYTES);
  return stored;
}

/** First stored key of (slot, db): the start of that sub-range. */
export function slotDbStart(slot: number, db: number): Buffer {
  return Buffer.from([slot >> 8, slot & 0xff, db]);
}

/** First stored key after every key of (slot, db). */
export function slotDbEnd(slot: number, db: number): Buffer {
  return db < 255 ? Buffer.from([slot >> 8, slot & 0xff, db + 1]) : slotStart(slot + 1);
}

export function slotStart(slot: number): Buffer {
  return Buffer.from([slot >> 8, slot & 0xff]);
}

export function slotOf(stored: Buffer): number {
  return ((stored[0] as number) << 8) | (stored[1] as number);
}

export function dbOf(stored: Buffer): number {
  return stored[2] as number;
}

/** True when the stored key holds a digest and the user key must come from the record. */
export function isDigestForm(stored: Buffer): boolean {
  return stored.length === STORED_KEY_PREFIX_BYTES + DIGEST_FORM_BYTES;
}

/** The user key of an inline-form stored key. */
export function userKeyOf(stored: Buffer): Buffer {
  return stored.subarray(STORED_KEY_PREFIX_BYTES);
}
