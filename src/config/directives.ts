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
  /** A directive that may appear several times; values accumulate (save, user). */
  readonly repeatable?: boolean;
  /** One line for the README's settings table. */
  readonly help: string;
}

const INT_MAX = 2147483647;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const DIRECTIVES: readonly Directive[] = [
  { name: 'port', kind: 'integer', defaultValue: '6379', min: 0, max: 65535, mutable: false,
    help: 'Client port (0 picks a free port; the peer port is this + 10000).' },
  { name: 'bind', kind: 'list', defaultValue: '127.0.0.1 -::1', mutable: false,
    help: 'Addresses to listen on; a leading "-" marks one that may be missing.' },
  { name: 'protected-mode', kind: 'bool', defaultValue: 'yes', mutable: true,
    help: 'Without a password, accept clients from loopback only.' },
  { name: 'dir', kind: 'string', defaultValue: './data', mutable: false, protectedConfig: true,
    help: 'Data directory (LMDB files and the node id).' },
  { name: 'requirepass', kind: 'string', defaultValue: '', mutable: true,
    help: 'Password of the default user ("" for none).' },
  { name: 'appendonly', kind: 'enum', defaultValue: 'yes', values: ['yes'], mutable: false,
    help: 'Always yes: every write is persisted before or as it is acknowledged.' },
  { name: 'appendfsync', kind: 'enum', defaultValue: 'everysec',
    values: ['always', 'everysec', 'no'], mutable: true,
    help: 'always: reply after commit and fsync; everysec: after commit (fsync follows); ' +
      'no: at once, commit within the event-loop turn.' },
  { name: 'save', kind: 'string', defaultValue: '', mutable: true, repeatable: true,
    help: 'Accepted for redis.conf compatibility; data is persisted per appendfsync.' },
  { name: 'maxclients', kind: 'integer', defaultValue: '10000', min: 1, max: INT_MAX,
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
    help: 'Background task frequency (active expiry), clamped to 1-500.' },
  { name: 'slowlog-log-slower-than', kind: 'integer', defaultValue: '10000',
    min: -1, max: LONG_MAX, mutable: true,
    help: 'Log commands slower than this many microseconds (-1: off).' },
  { name: 'slowlog-max-len', kind: 'integer', defaultValue: '128', min: 0, max: LONG_MAX,
    mutable: true, help: 'Entries the slow log keeps.' },
  { name: 'loglevel', kind: 'enum', defaultValue: 'notice',
    values: ['debug', 'verbose', 'notice', 'warning'], mutable: true,
    help: 'Log verbosity.' },
  { name: 'logfile', kind: 'string', defaultValue: '', mutable: false, protectedConfig: true,
    help: 'Log file ("" for standard output).' },
  { name: 'databases', kind: 'integer', defaultValue: '16', min: 16, max: 16, mutable: false,
    help: 'Logical databases; RingKV always has 16.' },
  { name: 'daemonize', kind: 'enum', defaultValue: 'no', values: ['no'], mutable: false,
    help: 'Always no: RingKV runs in the foreground (use your service manager).' },
];

export const DIRECTIVES_BY_NAME: ReadonlyMap<string, Directive> = new Map(
  DIRECTIVES.map((directive) => [directive.name, directive]),
);

/** Parses redis.conf memory values: 100, 1k, 1kb, 5mb, 2gb (case-insensitive). */
export function parseMemory(text: string): number | null {
  const match = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(text.trim());
  if (match === null) return null;
  const units: Record<string, number> = {
    k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3,
  };
  const unit = match[2] === undefined ? 1 : (units[match[2].toLowerCase()] as number);
  const value = Number(match[1]) * unit;
  return Number.isSafeInteger(value) ? value : null;
}

/**
 * Normalises a value for a directive, or returns Redis's reason for refusing it
 * ("argument couldn't be parsed into an integer", ...).
 */
export function normalise(directive: Directive, raw: string): { value: string } | { error: string } {
  switch (directive.kind) {
    case 'bool': {
      const lower = raw.toLowerCase();
      if (lower !== 'yes' && lower !== 'no') return { error: "argument must be 'yes' or 'no'" };
      return { value: lower };
    }
    case 'integer': {
      if (!/^-?\d+$/.test(raw)) return { error: "argument couldn't be parsed into an integer" };
      return bounded(directive, Number(raw));
    }
    case 'memory': {
      const bytes = parseMemory(raw);
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

function bounded(directive: Directive, value: number): { value: string } | { error: string } {
  const min = directive.min ?? -LONG_MAX;
  const max = directive.max ?? LONG_MAX;
  if (value < min || value > max) {
    const shownMax = max === LONG_MAX ? '9223372036854775807' : String(max);
    return { error: `argument must be between ${min} and ${shownMax} inclusive` };
  }
  return { value: String(value) };
}
