/**
 * Every setting RingKV accepts, in redis.conf syntax and with Redis's names where Redis has
 * the setting. The same table drives the config file, `--name value` flags, RINGKV_*
 * environment variables, CONFIG GET / SET / REWRITE and validation messages (which follow
 * Redis 7's CONFIG SET wording).
 */

export type DirectiveKind = 'bool' | 'integer' | 'memory' | 'enum' | 'string' | 'list';

export interface Directive {
  readonly name: string;
  readonly kind: DirectiveKind;
  /** Default as it would be written in a config file. */
  readonly defaultValue: string;
  /** Bounds for integer and memory settings. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values of an enum setting. */
  readonly values?: readonly string[];
  /** False: only the config file, flags and environment may set it. */
  readonly mutable: boolean;
  /** Paths and similar: CONFIG SET refuses them (Redis's protected configs). */
  readonly protectedConfig?: boolean;
  /** Extra validation; returns the reason a value is refused. */
  readonly check?: (value: string) => string | null;
  /** Rewrites a valid value to the form Redis stores and shows (clamping, spacing). */
  readonly adjust?: (value: string) => string;
  /** A directive that may appear several times; values accumulate (save, user). */
  readonly repeatable?: boolean;
  /** One line for the README's settings table. */
  readonly help: string;
}

const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
/** Stands for C's LONG_MAX in bounds; compared exactly as 2^63 - 1 (see exactBound). */
const LONG_MAX = Number.MAX_SAFE_INTEGER;
/** Redis clamps hz to this range when it is set (CONFIG_MIN_HZ, CONFIG_MAX_HZ). */
const HZ_MIN = 1;
const HZ_MAX = 500;

/**
 * CONFIG SET splits multi-word values on single spaces (sdssplitlen), so "a  b" has an
 * empty word; config file lines arrive here already joined with single spaces.
 */
function saveWords(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}

/** Redis's save check: pairs of <seconds >= 1> <changes >= 0>, each a whole strtoll number. */
function checkSaveParameters(value: string): string | null {
  const words = saveWords(value);
  if (words.length % 2 !== 0) return 'Invalid save parameters';
  for (let index = 0; index < words.length; index++) {
    const word = words[index] as string;
    // strtoll skips leading spaces and takes a sign; nothing may follow the digits.
    if (!/^\s*[+-]?\d+$/.test(word) || Number(word) < (index % 2 === 0 ? 1 : 0)) {
      return 'Invalid save parameters';
    }
  }
  return null;
}

export const DIRECTIVES: readonly Directive[] = [
  { name: 'port', kind: 'integer', defaultValue: '6379', min: 0, max: 65535, mutable: false,
    help: 'Client port (0 picks a free port; the peer port is this + 10000).' },
  { name: 'bind', kind: 'list', defaultValue: '127.0.0.1 -::1', mutable: false,
    help: 'Addresses to listen on; a leading "-" marks one that may be missing.' },
  { name: 'protected-mode', kind: 'bool', defaultValue: 'yes', mutable: true,
    help: 'Without a password, accept clients from loopback only.' },
  // Redis refuses CONFIG SET dir as a protected config (not an immutable one).
  { name: 'dir', kind: 'string', defaultValue: './data', mutable: true, protectedConfig: true,
    help: 'Data directory (LMDB files and the node id).' },
  { name: 'requirepass', kind: 'string', defaultValue: '', mutable: true,
    help: 'Password of the default user ("" for none).' },
  // Mutable as in Redis, so CONFIG SET appendonly yes succeeds; "no" is refused.
  { name: 'appendonly', kind: 'enum', defaultValue: 'yes', values: ['yes'], mutable: true,
    help: 'Always yes: every write is persisted before or as it is acknowledged.' },
  { name: 'appendfsync', kind: 'enum', defaultValue: 'everysec',
    values: ['everysec', 'always', 'no'], mutable: true,
    help: 'always: reply after the write is in the commit log and fdatasync\'ed; ' +
      'everysec: after it is in the commit log (fdatasync every second); ' +
      'no: the same, and the OS decides when to flush.' },
  { name: 'save', kind: 'string', defaultValue: '', mutable: true, repeatable: true,
    check: checkSaveParameters, adjust: (value) => saveWords(value).map(Number).join(' '),
    help: 'Accepted for redis.conf compatibility; data is persisted per appendfsync.' },
  { name: 'maxclients', kind: 'integer', defaultValue: '10000', min: 1, max: UINT_MAX,
    mutable: true, help: 'Most client connections at once.' },
  { name: 'proto-max-bulk-len', kind: 'memory', defaultValue: '536870912',
    min: 1024 * 1024, max: LONG_MAX, mutable: true,
    help: 'Largest bulk argument and string value.' },
  { name: 'client-query-buffer-limit', kind: 'memory', defaultValue: '1073741824',
    min: 1024 * 1024, max: LONG_MAX, mutable: true,
    help: 'Unprocessed input per client before it is disconnected.' },
  { name: 'timeout', kind: 'integer', defaultValue: '0', min: 0, max: INT_MAX, mutable: true,
    help: 'Close clients idle this many seconds (0: never).' },
  { name: 'tcp-keepalive', kind: 'integer', defaultValue: '300', min: 0, max: INT_MAX,
    mutable: true, help: 'TCP keepalive interval in seconds for client sockets (0: off).' },
  { name: 'tcp-backlog', kind: 'integer', defaultValue: '511', min: 0, max: INT_MAX,
    mutable: false, help: 'Listen backlog.' },
  { name: 'hz', kind: 'integer', defaultValue: '10', min: 0, max: INT_MAX, mutable: true,
    adjust: (value) => String(Math.min(HZ_MAX, Math.max(HZ_MIN, Number(value)))),
    help: 'Background task frequency (active expiry), clamped to 1-500.' },
  { name: 'slowlog-log-slower-than', kind: 'integer', defaultValue: '10000',
    min: -1, max: LONG_MAX, mutable: true,
    help: 'Log commands slower than this many microseconds (-1: off).' },
  { name: 'slowlog-max-len', kind: 'integer', defaultValue: '128', min: 0, max: LONG_MAX,
    mutable: true, help: 'Entries the slow log keeps.' },
  { name: 'loglevel', kind: 'enum', defaultValue: 'notice',
    values: ['debug', 'verbose', 'notice', 'warning'], mutable: true,
    help: 'Log verbosity.' },
  { name: 'logfile', kind: 'string', defaultValue: '', mutable: false,
    help: 'Log file ("" for standard output).' },
  { name: 'databases', kind: 'integer', defaultValue: '16', min: 16, max: 16, mutable: false,
    help: 'Logical databases; RingKV always has 16.' },
  { name: 'daemonize', kind: 'enum', defaultValue: 'no', values: ['no'], mutable: false,
    help: 'Always no: RingKV runs in the foreground (use your service manager).' },
];

export const DIRECTIVES_BY_NAME: ReadonlyMap<string, Directive> = new Map(
  DIRECTIVES.map((directive) => [directive.name, directive]),
);

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_LIMIT = 1n << 64n;
const MEMORY_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n,
  gb: 1024n ** 3n,
};

/**
 * Parses redis.conf memory values as Redis's memtoull does: digits (possibly none, which
 * reads as 0) and an optional unit b, k, kb, m, mb, g, gb in any case; no sign, no spaces.
 * The product wraps at 64 bits and is read as a signed number, as the C code does.
 */
export function parseMemory(text: string): number | null {
  const bytes = parseMemoryBytes(text);
  return bytes === null ? null : Number(bytes);
}

function parseMemoryBytes(text: string): bigint | null {
  const match = /^(\d*)([a-z]*)$/i.exec(text);
  if (match === null) return null;
  const unit = MEMORY_UNITS[(match[2] as string).toLowerCase()];
  if (unit === undefined) return null;
  let digits = match[1] === '' ? 0n : BigInt(match[1] as string);
  if (digits >= UINT64_LIMIT) digits = UINT64_LIMIT - 1n; // strtoull saturates
  const product = (digits * unit) % UINT64_LIMIT;
  return product > INT64_MAX ? product - UINT64_LIMIT : product;
}

/** A whole number with Redis's string2ll rules (no '+', no leading zeros, int64), or null. */
function parseInteger(text: string): bigint | null {
  if (!/^(0|-?[1-9]\d*)$/.test(text)) return null;
  const value = BigInt(text);
  return value > INT64_MAX || value < -INT64_MAX - 1n ? null : value;
}

/**
 * Normalises a value for a directive, or returns Redis's reason for refusing it
 * ("argument couldn't be parsed into an integer", ...).
 */
export function normalise(directive: Directive,
    raw: string): { value: string } | { error: string } {
  const result = validate(directive, raw);
  if ('error' in result || directive.adjust === undefined) return result;
  return { value: directive.adjust(result.value) };
}

function validate(directive: Directive, raw: string): { value: string } | { error: string } {
  switch (directive.kind) {
    case 'bool': {
      const lower = raw.toLowerCase();
      if (lower !== 'yes' && lower !== 'no') return { error: "argument must be 'yes' or 'no'" };
      return { value: lower };
    }
    case 'integer': {
      const value = parseInteger(raw);
      if (value === null) return { error: "argument couldn't be parsed into an integer" };
      return bounded(directive, value);
    }
    case 'memory': {
      const bytes = parseMemoryBytes(raw);
      if (bytes === null) return { error: 'argument must be a memory value' };
      return bounded(directive, bytes);
    }
    case 'enum': {
      const values = directive.values ?? [];
      const lower = raw.toLowerCase();
      if (!values.includes(lower)) {
        return { error: `argument(s) must be one of the following: ${values.join(', ')}` };
      }
      return { value: lower };
    }
    case 'string':
    case 'list': {
      const problem = directive.check?.(raw) ?? null;
      return problem === null ? { value: raw } : { error: problem };
    }
  }
}

/** LONG_MAX in a directive's bounds stands for C's LONG_MAX (2^63 - 1), exactly. */
function exactBound(bound: number): bigint {
  if (bound === LONG_MAX) return INT64_MAX;
  if (bound === -LONG_MAX) return -INT64_MAX - 1n;
  return BigInt(bound);
}

function bounded(directive: Directive, value: bigint): { value: string } | { error: string } {
  const min = exactBound(directive.min ?? -LONG_MAX);
  const max = exactBound(directive.max ?? LONG_MAX);
  if (value < min || value > max) {
    return { error: `argument must be between ${min} and ${max} inclusive` };
  }
  return { value: String(value) };
}
