/**
 * Every bound the server enforces, with its default and the reason for it (STYLE.md section 5).
 * Values a user can change (through the config file, flags or CONFIG SET) are fields of
 * `Limits`; fixed protocol bounds are constants. `validateLimits` checks their relationships.
 */

/** Longest inline request line and `*N` / `$N` header line (Redis PROTO_INLINE_MAX_SIZE). */
export const INLINE_BYTES_MAX = 64 * 1024;

/** Multibulk count accepted from an authenticated client (Redis: INT_MAX). */
export const MULTIBULK_COUNT_MAX = 2147483647;

/** Before AUTH, Redis accepts at most 10 arguments and 16 KiB per argument (CVE-2021-32675). */
export const UNAUTHENTICATED_ARGS_MAX = 10;
export const UNAUTHENTICATED_BULK_BYTES_MAX = 16384;

/**
 * Arguments of this size or more are received into one exact-size buffer instead of being
 * concatenated chunk by chunk (Redis PROTO_MBULK_BIG_ARG), so a 500 MB value costs one copy.
 */
export const BIG_ARGUMENT_BYTES = 32 * 1024;

/**
 * LMDB's key size limit is 1978 bytes. User keys up to this many bytes are stored as they are;
 * longer keys are stored under a prefix plus a SHA-256 digest with the full key in the record,
 * so the LMDB limit never shows through to users (DESIGN.md section 3).
 */
export const STORED_KEY_INLINE_BYTES_MAX = 1900;

/**
 * Bytes of the in-memory cache of recently read and written records (storage/record-cache.ts).
 * A point read it answers costs a hash lookup instead of an LMDB B-tree descent; 64 MiB holds
 * about 350k records of redis-benchmark's 100-byte values. Allocated once; pages are touched
 * only as it fills.
 */
export const RECORD_CACHE_BYTES = 64 * 1024 * 1024;

/** Larger records are not cached: they are rare, and caching a write copies its value again. */
export const RECORD_CACHE_ENTRY_BYTES_MAX = 16 * 1024;

/** Replies queued on a socket before we stop reading from that client (backpressure). */
export const REPLY_BACKPRESSURE_BYTES = 4 * 1024 * 1024;

/** Commands decoded but not yet answered on one connection before we stop reading it. */
export const PIPELINE_DEPTH_MAX = 4096;

/** Longest glob pattern accepted by KEYS / SCAN MATCH (glob matching cost is bounded by it). */
export const GLOB_PATTERN_BYTES_MAX = 64 * 1024;

/** Entries kept per SLOWLOG argument list and bytes kept per argument (as Redis). */
export const SLOWLOG_ARGS_MAX = 32;
export const SLOWLOG_ARG_BYTES_MAX = 128;

/** Logical databases, as a standalone Redis (`databases 16`). */
export const DATABASES_COUNT = 16;

/** User-changeable limits; defaults follow Redis 7's redis.conf. */
export interface Limits {
  /** proto-max-bulk-len: largest bulk argument (Redis default 512 MB). */
  bulkBytesMax: number;
  /** client-query-buffer-limit: unprocessed input per client before it is disconnected. */
  queryBufferBytesMax: number;
  /** maxclients: concurrent client connections. */
  clientsMax: number;
}

export function defaultLimits(): Limits {
  return {
    bulkBytesMax: 512 * 1024 * 1024,
    queryBufferBytesMax: 1024 * 1024 * 1024,
    clientsMax: 10000,
  };
}

/** Returns a list of problems; empty when the limits are consistent. */
export function validateLimits(limits: Limits): string[] {
  const problems: string[] = [];
  if (limits.bulkBytesMax < 1024 * 1024) {
    problems.push('proto-max-bulk-len must be at least 1mb');
  }
  if (limits.queryBufferBytesMax < 1024 * 1024) {
    problems.push('client-query-buffer-limit must be at least 1mb');
  }
  if (limits.clientsMax < 1) problems.push('maxclients must be at least 1');
  return problems;
}
