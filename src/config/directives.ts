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
  /** Other names accepted in files, flags and CONFIG SET (not listed by CONFIG GET). */
  readonly aliases?: readonly string[];
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
  // Cluster (DESIGN.md sections 2, 5, 6, 7). Seeds or cluster-enabled turn cluster mode on.
  { name: 'cluster-enabled', kind: 'bool', defaultValue: 'no', mutable: false,
    help: 'Present as a Redis Cluster node (also on when cluster-seeds is set).' },
  { name: 'cluster-seeds', kind: 'string', defaultValue: '', mutable: false,
    check: checkSeeds,
    help: 'Nodes to join through: host:port[@busport], separated by commas or spaces.' },
  { name: 'cluster-name', kind: 'string', defaultValue: 'ringkv', mutable: false,
    check: (value) => (/^[\x21-\x7e]{1,64}$/.test(value) ? null : 'invalid cluster name'),
    help: 'Cluster identity; a node of another cluster is refused on the peer port.' },
  { name: 'leave-on-shutdown', kind: 'bool', defaultValue: 'no', mutable: true,
    help: 'On SIGTERM, hand this node\'s slots off and leave the ring before stopping.' },
  { name: 'cluster-node-id', kind: 'string', defaultValue: '', mutable: false,
    check: (value) => (value === '' || /^[0-9a-f]{40}$/.test(value) ? null
      : 'cluster-node-id must be 40 lowercase hex characters'),
    help: 'The node id to take when the data directory is empty (a replaced disk).' },
  { name: 'cluster-secret', kind: 'string', defaultValue: '', mutable: false,
    help: 'Shared secret peers prove to each other (HMAC handshake). Set it.' },
  { name: 'cluster-port', kind: 'integer', defaultValue: '0', min: 0, max: 65535,
    mutable: false, help: 'Peer port to listen on (0: port + 10000).' },
  { name: 'cluster-announce-ip', kind: 'string', defaultValue: '', mutable: false,
    aliases: ['announce-ip'],
    help: 'Address other nodes and clients should use ("": the first bind address).' },
  { name: 'cluster-announce-port', kind: 'integer', defaultValue: '0', min: 0, max: 65535,
    mutable: false, aliases: ['announce-port'],
    help: 'Client port to announce (0: the port bound).' },
  { name: 'cluster-announce-bus-port', kind: 'integer', defaultValue: '0', min: 0,
    max: 65535, mutable: false, aliases: ['announce-bus-port'],
    help: 'Peer port to announce (0: the peer port bound).' },
  { name: 'replication-factor', kind: 'integer', defaultValue: '3', min: 1, max: 16,
    mutable: false, help: 'Replicas of each key (N).' },
  { name: 'vnodes', kind: 'integer', defaultValue: '128', min: 1, max: 4096, mutable: false,
    help: 'Ring tokens of this node (scaled by weight).' },
  { name: 'weight', kind: 'string', defaultValue: '1', mutable: false,
    check: (value) => (/^\d+(\.\d+)?$/.test(value) && Number(value) > 0 &&
      Number(value) <= 16 ? null : 'weight must be a number above 0 and at most 16'),
    help: 'Share of the ring relative to other nodes (tokens = vnodes x weight).' },
  { name: 'rack', kind: 'string', defaultValue: '', mutable: false,
    help: 'Rack or zone: replicas of a key go to distinct racks first.' },
  { name: 'read-consistency', kind: 'string', defaultValue: 'quorum', mutable: true,
    check: checkLevel, help: 'Default R for new connections: one, quorum, all or a number.' },
  { name: 'write-consistency', kind: 'string', defaultValue: 'quorum', mutable: true,
    check: checkLevel, help: 'Default W for new connections: one, quorum, all or a number.' },
  { name: 'request-timeout', kind: 'integer', defaultValue: '2000', min: 10, max: 600000,
    mutable: true, help: 'Milliseconds a quorum request waits for replicas before failing.' },
  { name: 'cluster-gossip-interval', kind: 'integer', defaultValue: '1000', min: 10,
    max: 60000, mutable: false, help: 'Milliseconds between gossip rounds.' },
  { name: 'tombstone-grace', kind: 'integer', defaultValue: '86400', min: 1, max: INT_MAX,
    mutable: false, help: 'Seconds a delete is remembered so repair cannot resurrect it.' },
  { name: 'hinted-handoff', kind: 'bool', defaultValue: 'yes', mutable: true,
    help: 'Keep writes for unreachable replicas as hints and replay them later.' },
  { name: 'sloppy-quorum', kind: 'bool', defaultValue: 'no', mutable: true,
    help: 'Count a durable hint as the missing replica\'s acknowledgement (W).' },
  // 0 by default: a read asking all N replicas instead of R cost GET at QUORUM ~9 % of its
  // throughput at 10 % (3 cluster pairs, bench/RESULTS.md), for repairs anti-entropy makes
  // within an interval anyway; Cassandra 4.0 dropped its read_repair_chance likewise.
  { name: 'read-repair-chance', kind: 'integer', defaultValue: '0', min: 0, max: 100,
    mutable: true, help: 'Percent of reads sent to every replica instead of R (they repair ' +
      'all replicas); the others repair only the replicas they asked.' },
  { name: 'speculative-retry', kind: 'integer', defaultValue: '20', min: 1, max: INT_MAX,
    mutable: true, help: 'Milliseconds a read waits for its R replicas before asking the ' +
      'others too (a replica paused but not yet known down); checked every 20 ms.' },
  { name: 'hints-per-node-max', kind: 'integer', defaultValue: '1000000', min: 0,
    max: INT_MAX, mutable: false, help: 'Hints kept for one replica at most.' },
  { name: 'hints-bytes-max', kind: 'memory', defaultValue: '268435456', min: 0,
    max: LONG_MAX, mutable: false, help: 'Bytes of hints kept in total at most.' },
  { name: 'hint-window', kind: 'integer', defaultValue: '10800', min: 1, max: INT_MAX,
    mutable: false, help: 'Seconds a hint is kept; older ones are dropped (repair covers).' },
  { name: 'anti-entropy-interval', kind: 'integer', defaultValue: '30000', min: 100,
    max: INT_MAX, mutable: true,
    help: 'Milliseconds between Merkle exchanges (one peer at a time); a busy node defers ' +
      'its exchange, at most 59 intervals in a row.' },
  { name: 'repair-bytes-per-second', kind: 'memory', defaultValue: '16777216', min: 0,
    max: LONG_MAX, mutable: true,
    help: 'Throttle for anti-entropy and slot streaming (0: unthrottled).' },
];

/**
 * Directives that may appear many times, each occurrence one entry of words (a user and its
 * ACL rules). They are not settings: CONFIG GET shows nothing for them and CONFIG SET does
 * not know them, as Redis 7.0 treats `user`; CONFIG REWRITE writes the entries back from
 * whoever owns them at run time (see Config.provideLines).
 */
export interface LineDirective {
  readonly name: string;
  /** Fewest words after the directive name. */
  readonly wordsMin: number;
  readonly usage: string;
  readonly help: string;
}

export const LINE_DIRECTIVES: readonly LineDirective[] = [
  { name: 'user', wordsMin: 1, usage: 'user <name> [<rule> ...]',
    help: 'A user and its ACL rules, in redis.conf syntax (on, >password, ~pattern, ' +
      '+@category, ...). Repeatable; ACL SETUSER changes are written back by CONFIG REWRITE.' },
  { name: 'user-consistency', wordsMin: 2,
    usage: 'user-consistency <name> <level> | <name> READ <level> [WRITE <level>]',
    help: 'Read and write consistency a connection gets when it authenticates as that user ' +
      '(and at connect or RESET for the default user). Repeatable.' },
];

export const LINE_DIRECTIVES_BY_NAME: ReadonlyMap<string, LineDirective> = new Map(
  LINE_DIRECTIVES.map((directive): [string, LineDirective] => [directive.name, directive]),
);

/** host:port or host:port@busport, separated by commas or spaces. */
function checkSeeds(value: string): string | null {
  for (const seed of value.split(/[\s,]+/).filter(Boolean)) {
    if (!/^[^\s:@]+:\d{1,5}(@\d{1,5})?$/.test(seed)) return `invalid seed '${seed}'`;
  }
  return null;
}

function checkLevel(value: string): string | null {
  return /^(one|quorum|all|[1-9]|1[0-6])$/i.test(value) ? null
    : 'consistency must be one, quorum, all or a number of replicas';
}

export const DIRECTIVES_BY_NAME: ReadonlyMap<string, Directive> = new Map(
  DIRECTIVES.flatMap((directive) => [directive.name, ...(directive.aliases ?? [])]
    .map((name): [string, Directive] => [name, directive])),
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
