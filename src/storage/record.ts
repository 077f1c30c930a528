/**
 * The record codec: one record per key, the same bytes on disk (LMDB value) and on the wire
 * (peer messages). The layout is versioned and pinned by golden tests
 * (test/compat/record-format.test.ts); change it only with a new format number.
 *
 * Format 1, big-endian:
 *   0  u8   format (1)
 *   1  u32  CRC-32 of bytes 5 to the end (one pass over contiguous bytes)
 *   5  u8   flags: bit 0 tombstone, bit 1 full key stored (key longer than the inline limit),
 *           bit 2 checksum pending (see below)
 *   6  u8   value type (ValueType)
 *   7  u8   reserved, 0
 *   8  u48  version: hybrid logical clock, physical milliseconds
 *   14 u16  version: hybrid logical clock, logical counter
 *   16 u32  version: node tag of the writer (tie-break)
 *   20 f64  expiry, absolute Unix milliseconds; 0 = none
 *   28      [if full key stored: u32 key length, key bytes]
 *           value bytes (the rest)
 *
 * LMDB has no page checksums, so the CRC turns silent corruption into a missing replica
 * (repaired from the others) instead of a wrong value (FAULTS.md, B3).
 *
 * Checksum pending: a standalone node's records never leave the process except into LMDB,
 * so its coordinator encodes them without the CRC (bytes 1-4 zero, flag bit 2 set) and the
 * LMDB writer thread completes them (`completeChecksum`) just before they are stored: the
 * CRC of a SET's 123 bytes was ~5 % of the main thread's time at -P 16, and the writer
 * thread has time to spare. Such a record lives only in the process's memory and in its
 * commit log (whose groups carry their own CRC; replay completes them too): no record in
 * LMDB or on the wire has the flag, and `recordProblem` rejects it there.
 */
import { assert } from '../util/assert.js';
import { crc32 } from '../util/crc32.js';
import type { Version } from '../versioning/version.js';

export const RECORD_FORMAT = 1;
export const RECORD_HEADER_BYTES = 28;
const CHECKSUMMED_FROM = 5;

const FLAG_TOMBSTONE = 1;
const FLAG_FULL_KEY = 2;
const FLAG_CHECKSUM_PENDING = 4;

export const enum ValueType {
  String = 0,
}

export interface RecordFields {
  version: Version;
  tombstone: boolean;
  type: ValueType;
  /** Absolute Unix milliseconds; 0 for no expiry. */
  expireAtMs: number;
  value: Buffer;
  /** The user key, stored only when the LMDB key is a digest of it. */
  fullKey: Buffer | null;
}

/**
 * The record's bytes; with `checksum` false its CRC is left pending (see above: only for
 * records that reach nothing but this process's LMDB).
 */
export function encodeRecord(fields: RecordFields, checksum = true): Buffer {
  const keyBytes = fields.fullKey === null ? 0 : 4 + fields.fullKey.length;
  const bytes = Buffer.allocUnsafe(RECORD_HEADER_BYTES + keyBytes + fields.value.length);
  let flags = 0;
  if (fields.tombstone) flags |= FLAG_TOMBSTONE;
  if (fields.fullKey !== null) flags |= FLAG_FULL_KEY;
  if (!checksum) flags |= FLAG_CHECKSUM_PENDING;
  bytes[0] = RECORD_FORMAT;
  bytes[5] = flags;
  bytes[6] = fields.type;
  bytes[7] = 0;
  bytes.writeUIntBE(fields.version.physicalMs, 8, 6);
  bytes.writeUInt16BE(fields.version.logical, 14);
  bytes.writeUInt32BE(fields.version.nodeTag, 16);
  bytes.writeDoubleBE(fields.expireAtMs, 20);
  let offset = RECORD_HEADER_BYTES;
  if (fields.fullKey !== null) {
    bytes.writeUInt32BE(fields.fullKey.length, offset);
    fields.fullKey.copy(bytes, offset + 4);
    offset += keyBytes;
  }
  bytes.set(fields.value, offset);
  bytes.writeUInt32BE(checksum ? checksumOf(bytes) : 0, 1);
  return bytes;
}

/**
 * Sets the CRC of a record encoded with its checksum pending and clears the flag (in
 * place); a complete record is left alone. The LMDB writer calls it on every record it
 * stores. Only structurally sound records (`recordLooksValid`) have a flag to look at.
 */
export function completeChecksum(bytes: Buffer): void {
  if (!recordLooksValid(bytes)) return;
  const flags = bytes[5] as number;
  if ((flags & FLAG_CHECKSUM_PENDING) === 0) return;
  bytes[5] = flags & ~FLAG_CHECKSUM_PENDING;
  bytes.writeUInt32BE(checksumOf(bytes), 1);
}

function checksumOf(bytes: Buffer): number {
  return crc32(bytes, CHECKSUMMED_FROM);
}

const VERSION_FROM = 8;
const VERSION_TO = 20;

/**
 * Orders two records by version (negative, 0, positive as `a` is older, the same, newer),
 * as `compareVersions` does, straight from the bytes: the version's three fields are
 * big-endian and unsigned, in order of significance, so byte order is version order.
 */
export function compareRecordVersions(a: Buffer, b: Buffer): number {
  return a.compare(b, VERSION_FROM, VERSION_TO, VERSION_FROM, VERSION_TO);
}

/**
 * Why a byte string is not a valid record; null when it is. A record whose checksum is
 * pending passes only with `pendingAllowed` (a standalone node reading its own writes back
 * from memory); anywhere else it is a problem.
 */
export function recordProblem(bytes: Buffer, pendingAllowed = false): string | null {
  if (bytes.length < RECORD_HEADER_BYTES) return 'record shorter than its header';
  if (bytes[0] !== RECORD_FORMAT) return `unknown record format ${bytes[0]}`;
  if (((bytes[5] as number) & FLAG_CHECKSUM_PENDING) !== 0) {
    if (!pendingAllowed) return 'record checksum pending';
  } else if (bytes.readUInt32BE(1) !== checksumOf(bytes)) {
    return 'record checksum mismatch';
  }
  if ((bytes[5] as number) & FLAG_FULL_KEY) {
    if (bytes.length < RECORD_HEADER_BYTES + 4) return 'record key length missing';
    const keyLength = bytes.readUInt32BE(RECORD_HEADER_BYTES);
    if (RECORD_HEADER_BYTES + 4 + keyLength > bytes.length) return 'record key overruns it';
  }
  return null;
}

/**
 * The cheap structural check done on every read: the header is there and the format is
 * known. The CRC is verified where records cross a trust boundary instead (loading at
 * start, anti-entropy, streaming and replication), which keeps it off the GET hot path.
 */
export function recordLooksValid(bytes: Buffer): boolean {
  return bytes.length >= RECORD_HEADER_BYTES && bytes[0] === RECORD_FORMAT;
}

/**
 * A read-only view over encoded record bytes; fields are read on demand so a GET touches
 * only the header and the value. Construct only over bytes that passed `recordProblem`.
 */
export class StoredRecord {
  constructor(readonly bytes: Buffer) {}

  static decode(bytes: Buffer): StoredRecord {
    const problem = recordProblem(bytes);
    assert(problem === null, `invalid record: ${problem}`);
    return new StoredRecord(bytes);
  }

  /** A tombstone with this record's version (and full key), expiring at `expireAtMs`. */
  asTombstone(expireAtMs: number): StoredRecord {
    return new StoredRecord(encodeRecord({ version: this.version, tombstone: true,
      type: this.type, expireAtMs, value: Buffer.alloc(0), fullKey: this.fullKey }));
  }

  /** The same record over its own copy of the bytes (reads may reuse theirs). */
  copy(): StoredRecord {
    return new StoredRecord(Buffer.from(this.bytes));
  }

  get tombstone(): boolean {
    return ((this.bytes[5] as number) & FLAG_TOMBSTONE) !== 0;
  }

  get type(): ValueType {
    return this.bytes[6] as ValueType;
  }

  /**
   * 0 for no expiry. Most records have none: an all-zero field is answered without
   * decoding the double (a GET of a key without a TTL then reads neither it nor the clock).
   */
  get expireAtMs(): number {
    const bytes = this.bytes;
    const zero = ((bytes[20] as number) | (bytes[21] as number) | (bytes[22] as number)
      | (bytes[23] as number) | (bytes[24] as number) | (bytes[25] as number)
      | (bytes[26] as number) | (bytes[27] as number)) === 0;
    return zero ? 0 : bytes.readDoubleBE(20);
  }

  /**
   * The version's parts, read from the bytes: a record passes for a Version (of the
   * moment: the bytes may be a view of a buffer reused later) without an object per read.
   */
  get physicalMs(): number {
    return this.bytes.readUIntBE(8, 6);
  }

  get logical(): number {
    return this.bytes.readUInt16BE(14);
  }

  get nodeTag(): number {
    return this.bytes.readUInt32BE(16);
  }

  get version(): Version {
    return { physicalMs: this.physicalMs, logical: this.logical, nodeTag: this.nodeTag };
  }

  get fullKey(): Buffer | null {
    if (((this.bytes[5] as number) & FLAG_FULL_KEY) === 0) return null;
    const length = this.bytes.readUInt32BE(RECORD_HEADER_BYTES);
    return this.bytes.subarray(RECORD_HEADER_BYTES + 4, RECORD_HEADER_BYTES + 4 + length);
  }

  get value(): Buffer {
    let offset = RECORD_HEADER_BYTES;
    if (((this.bytes[5] as number) & FLAG_FULL_KEY) !== 0) {
      offset += 4 + this.bytes.readUInt32BE(RECORD_HEADER_BYTES);
    }
    return this.bytes.subarray(offset);
  }

  /** True when the record holds a value a reader may see at `nowMs`. */
  isLive(nowMs: number): boolean {
    if (this.tombstone) return false;
    const expireAtMs = this.expireAtMs;
    return expireAtMs === 0 || expireAtMs > nowMs;
  }
}
