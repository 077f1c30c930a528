/**
 * Documentation of every command in commands/table.ts, keyed by full name ("get",
 * "client|list"): what COMMAND DOCS reports, plus the key specs COMMAND INFO reports and
 * COMMAND GETKEYS uses.
 *
 * Facts about the syntax (argument names, types, tokens, flags, nesting, `since`) and the
 * key specs follow Redis 7.0.15 exactly, because redis-cli builds its hints and help lines
 * from them and cluster clients route by key specs. Summaries, complexity lines, history
 * wording and key-spec notes are our own words.
 *
 * Data only: helpers below build the common argument shapes.
 */

/** Redis 7 command groups (COMMAND DOCS `group`). */
export type CommandGroup = 'generic' | 'string' | 'connection' | 'server' | 'cluster';

export type ArgumentType =
  | 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token'
  | 'oneof' | 'block';

export type ArgumentFlag = 'optional' | 'multiple' | 'multiple_token';

/** One argument of a command's syntax, as COMMAND DOCS reports it. */
export interface ArgumentDoc {
  readonly name: string;
  readonly type: ArgumentType;
  /** For `key` arguments: which key spec (index into `keySpecs`) describes this key. */
  readonly keySpecIndex?: number;
  readonly token?: string;
  readonly since?: string;
  readonly deprecatedSince?: string;
  readonly flags?: readonly ArgumentFlag[];
  /** Children of `oneof` and `block` arguments. */
  readonly arguments?: readonly ArgumentDoc[];
}

/** Redis key-spec flags, in the order Redis prints them. */
export const KEY_SPEC_FLAG_ORDER = ['RO', 'RW', 'OW', 'RM', 'access', 'update', 'insert',
  'delete', 'not_key', 'incomplete', 'variable_flags'] as const;
export type KeySpecFlag = typeof KEY_SPEC_FLAG_ORDER[number];

/**
 * A key spec with an `index` begin-search and a `range` find-keys step: the keys start at
 * argument `index` and run to `lastKey` (relative to the first key when >= 0, counted from
 * the end of the arguments when negative) every `keyStep` arguments. Every command we
 * implement uses this form; `keyword` / `keynum` specs can be added when one needs them.
 */
export interface KeySpec {
  readonly notes?: string;
  readonly flags: readonly KeySpecFlag[];
  readonly index: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly limit: number;
}

export interface CommandDocs {
  readonly summary: string;
  readonly since: string;
  readonly group: CommandGroup;
  readonly complexity: string;
  readonly docFlags?: ReadonlyArray<'deprecated' | 'syscmd'>;
  readonly deprecatedSince?: string;
  readonly replacedBy?: string;
  /** [version, change] pairs, oldest first. */
  readonly history?: ReadonlyArray<readonly [string, string]>;
  readonly arguments?: readonly ArgumentDoc[];
  readonly keySpecs?: readonly KeySpec[];
}

// --- Argument shapes --------------------------------------------------------------------

interface ArgumentOptions {
  readonly token?: string;
  readonly since?: string;
  readonly deprecatedSince?: string;
  readonly flags?: readonly ArgumentFlag[];
}

const OPTIONAL: readonly ArgumentFlag[] = ['optional'];
const MULTIPLE: readonly ArgumentFlag[] = ['multiple'];
const OPTIONAL_MULTIPLE: readonly ArgumentFlag[] = ['optional', 'multiple'];
const OPTIONAL_ONLY: ArgumentOptions = { flags: OPTIONAL };

type ArgumentMaker = (name: string, options?: ArgumentOptions) => ArgumentDoc;

function plain(type: ArgumentType): ArgumentMaker {
  return (name, options = {}) => ({ name, type, ...options });
}

const str = plain('string');
const int = plain('integer');
const dbl = plain('double');
const unixTime = plain('unix-time');
const pattern = plain('pattern');

function key(name: string, keySpecIndex: number, options: ArgumentOptions = {}): ArgumentDoc {
  return { name, type: 'key', keySpecIndex, ...options };
}

/** A pure token whose argument name is the token in lower case (true of every one here). */
function token(word: string, options: ArgumentOptions = {}): ArgumentDoc {
  return { name: word.toLowerCase(), type: 'pure-token', token: word, ...options };
}

function oneof(name: string, children: readonly ArgumentDoc[],
    options: ArgumentOptions = {}): ArgumentDoc {
  return { name, type: 'oneof', ...options, arguments: children };
}

function block(name: string, children: readonly ArgumentDoc[],
    options: ArgumentOptions = {}): ArgumentDoc {
  return { name, type: 'block', ...options, arguments: children };
}

const KEY = key('key', 0);
const KEYS = key('key', 0, { flags: MULTIPLE });
const KEY_ONLY: readonly ArgumentDoc[] = [KEY];
const KEY_VALUE: readonly ArgumentDoc[] = [KEY, str('value')];
const KEY_VALUE_PAIRS: readonly ArgumentDoc[] = [block('key_value', KEY_VALUE,
  { flags: MULTIPLE })];
const ON_OFF = (name: string): ArgumentDoc => oneof(name, [token('ON'), token('OFF')]);

const EXPIRE_CONDITION = oneof('condition',
  [token('NX'), token('XX'), token('GT'), token('LT')], { since: '7.0.0', flags: OPTIONAL });
const expireArguments = (time: ArgumentDoc): readonly ArgumentDoc[] =>
  [KEY, time, EXPIRE_CONDITION];

const FLUSH_MODE = oneof('async',
  [token('ASYNC', { since: '4.0.0' }), token('SYNC', { since: '6.2.0' })], OPTIONAL_ONLY);

// --- Key specs ---------------------------------------------------------------------------

function keyAt(flags: readonly KeySpecFlag[], index = 1, notes?: string): KeySpec {
  const spec: KeySpec = { flags, index, lastKey: 0, keyStep: 1, limit: 0 };
  return notes === undefined ? spec : { notes, ...spec };
}

/** Every argument from the first on (keyStep 2: keys alternate with values). */
function keysToEnd(flags: readonly KeySpecFlag[], keyStep = 1): KeySpec {
  return { flags, index: 1, lastKey: -1, keyStep, limit: 0 };
}

const RO: readonly KeySpec[] = [keyAt(['RO'])];
const RO_ACCESS: readonly KeySpec[] = [keyAt(['RO', 'access'])];
const RW_UPDATE: readonly KeySpec[] = [keyAt(['RW', 'update'])];
const RW_ACCESS_UPDATE: readonly KeySpec[] = [keyAt(['RW', 'access', 'update'])];
const OW_UPDATE: readonly KeySpec[] = [keyAt(['OW', 'update'])];

// --- Shared entries ----------------------------------------------------------------------

const O1 = 'O(1)';
const BY_SUBCOMMAND = 'Depends on the subcommand';
const EXPIRE_OPTIONS: ReadonlyArray<readonly [string, string]> =
  [['7.0.0', 'NX, XX, GT and LT options.']];
const FLUSH_HISTORY: ReadonlyArray<readonly [string, string]> =
  [['4.0.0', 'ASYNC option.'], ['6.2.0', 'SYNC option.']];

function helpDocs(container: string, since: string, group: CommandGroup): CommandDocs {
  return { summary: `Lists the ${container} subcommands.`, since, group, complexity: O1 };
}

function integerCommand(summary: string, since: string, amount?: string): CommandDocs {
  return { summary, since, group: 'string', complexity: O1,
    arguments: amount === undefined ? KEY_ONLY : [KEY, int(amount)],
    keySpecs: RW_ACCESS_UPDATE };
}

function keyQuery(summary: string, since: string, group: CommandGroup,
    keySpecs: readonly KeySpec[], history?: readonly [string, string]): CommandDocs {
  const docs: CommandDocs = { summary, since, group, complexity: O1, arguments: KEY_ONLY,
    keySpecs };
  return history === undefined ? docs : { ...docs, history: [history] };
}

// --- The table ---------------------------------------------------------------------------

const EXPIRATION = [
  int('seconds', { token: 'EX' }), int('milliseconds', { token: 'PX' }),
  unixTime('unix-time-seconds', { token: 'EXAT' }),
  unixTime('unix-time-milliseconds', { token: 'PXAT' }),
];

const STRING_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['get', keyQuery('Returns the string stored at a key.', '1.0.0', 'string', RO_ACCESS)],
  ['set', {
    summary: 'Stores a string at a key, with optional conditions and expiry.',
    since: '1.0.0', group: 'string', complexity: O1,
    history: [['2.6.12', 'EX, PX, NX and XX options.'], ['6.0.0', 'KEEPTTL option.'],
      ['6.2.0', 'GET, EXAT and PXAT options.'], ['7.0.0', 'NX may be combined with GET.']],
    arguments: [KEY, str('value'),
      oneof('condition', [token('NX'), token('XX')], { since: '2.6.12', flags: OPTIONAL }),
      token('GET', { since: '6.2.0', flags: OPTIONAL }),
      oneof('expiration', [
        int('seconds', { token: 'EX', since: '2.6.12' }),
        int('milliseconds', { token: 'PX', since: '2.6.12' }),
        unixTime('unix-time-seconds', { token: 'EXAT', since: '6.2.0' }),
        unixTime('unix-time-milliseconds', { token: 'PXAT', since: '6.2.0' }),
        token('KEEPTTL', { since: '6.0.0' }),
      ], OPTIONAL_ONLY)],
    keySpecs: [keyAt(['RW', 'access', 'update', 'variable_flags'], 1,
      'Reads the old value (RW, access) only when GET is given')],
  }],
  ['setnx', { summary: 'Stores a string at a key only when the key is absent.',
    since: '1.0.0', group: 'string', complexity: O1, arguments: KEY_VALUE,
    keySpecs: [keyAt(['OW', 'insert'])] }],
  ['setex', { summary: 'Stores a string at a key with a time to live in seconds.',
    since: '2.0.0', group: 'string', complexity: O1,
    arguments: [KEY, int('seconds'), str('value')], keySpecs: OW_UPDATE }],
  ['psetex', { summary: 'Stores a string at a key with a time to live in milliseconds.',
    since: '2.6.0', group: 'string', complexity: O1,
    arguments: [KEY, int('milliseconds'), str('value')], keySpecs: OW_UPDATE }],
  ['getset', { summary: 'Stores a new string at a key and returns the previous one.',
    since: '1.0.0', group: 'string', complexity: O1, docFlags: ['deprecated'],
    deprecatedSince: '6.2.0', replacedBy: '`SET` with the `GET` option',
    arguments: KEY_VALUE, keySpecs: RW_ACCESS_UPDATE }],
  ['getdel', keyQuery('Returns the string at a key and deletes the key.', '6.2.0', 'string',
    [keyAt(['RW', 'access', 'delete'])])],
  ['getex', { summary: 'Returns the string at a key and optionally changes its expiry.',
    since: '6.2.0', group: 'string', complexity: O1,
    arguments: [KEY, oneof('expiration', [...EXPIRATION, token('PERSIST')], OPTIONAL_ONLY)],
    keySpecs: [keyAt(['RW', 'access', 'update'], 1, 'Writes because the expiry may change')] }],
  ['mget', { summary: 'Returns the strings stored at several keys.', since: '1.0.0',
    group: 'string', complexity: 'O(N) where N is the number of keys', arguments: [KEYS],
    keySpecs: [keysToEnd(['RO', 'access'])] }],
  ['mset', { summary: 'Stores strings at several keys at once.', since: '1.0.1',
    group: 'string', complexity: 'O(N) where N is the number of keys',
    arguments: KEY_VALUE_PAIRS, keySpecs: [keysToEnd(['OW', 'update'], 2)] }],
  ['msetnx', { summary: 'Stores strings at several keys only when none of them exists.',
    since: '1.0.1', group: 'string', complexity: 'O(N) where N is the number of keys',
    arguments: KEY_VALUE_PAIRS, keySpecs: [keysToEnd(['OW', 'insert'], 2)] }],
  ['append', { summary: 'Adds bytes to the end of the string at a key.', since: '2.0.0',
    group: 'string', complexity: 'O(1) amortized', arguments: KEY_VALUE,
    keySpecs: [keyAt(['RW', 'insert'])] }],
  ['strlen', keyQuery('Returns the length in bytes of the string at a key.', '2.2.0',
    'string', RO)],
  ['getrange', { summary: 'Returns a byte range of the string at a key.', since: '2.4.0',
    group: 'string', complexity: 'O(N) where N is the length of the returned range',
    arguments: [KEY, int('start'), int('end')], keySpecs: RO_ACCESS }],
  ['setrange', { summary: 'Overwrites the string at a key from a byte offset on.',
    since: '2.2.0', group: 'string', complexity: 'O(M) where M is the length of the value',
    arguments: [KEY, int('offset'), str('value')], keySpecs: RW_UPDATE }],
  ['incr', integerCommand('Adds one to the integer stored at a key.', '1.0.0')],
  ['decr', integerCommand('Subtracts one from the integer stored at a key.', '1.0.0')],
  ['incrby', integerCommand('Adds an amount to the integer stored at a key.', '1.0.0',
    'increment')],
  ['decrby', integerCommand('Subtracts an amount from the integer stored at a key.', '1.0.0',
    'decrement')],
  ['incrbyfloat', { summary: 'Adds a floating-point amount to the number stored at a key.',
    since: '2.6.0', group: 'string', complexity: O1, arguments: [KEY, dbl('increment')],
    keySpecs: RW_ACCESS_UPDATE }],
];

const KEYSPACE_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['del', { summary: 'Deletes keys.', since: '1.0.0', group: 'generic',
    complexity: 'O(N) where N is the number of keys', arguments: [KEYS],
    keySpecs: [keysToEnd(['RM', 'delete'])] }],
  ['unlink', { summary: 'Deletes keys, reclaiming their memory later.', since: '4.0.0',
    group: 'generic', complexity: 'O(1) per key', arguments: [KEYS],
    keySpecs: [keysToEnd(['RM', 'delete'])] }],
  ['exists', { summary: 'Counts how many of the given keys exist.', since: '1.0.0',
    group: 'generic', complexity: 'O(N) where N is the number of keys',
    history: [['3.0.3', 'Takes several keys.']], arguments: [KEYS],
    keySpecs: [keysToEnd(['RO'])] }],
  ['touch', { summary: 'Updates the access time of keys and counts those that exist.',
    since: '3.2.1', group: 'generic', complexity: 'O(N) where N is the number of keys',
    arguments: [KEYS], keySpecs: [keysToEnd(['RO'])] }],
  ['type', keyQuery('Returns the type of the value stored at a key.', '1.0.0', 'generic', RO)],
  ['expire', { summary: 'Gives a key a time to live in seconds.', since: '1.0.0',
    group: 'generic', complexity: O1, history: EXPIRE_OPTIONS,
    arguments: expireArguments(int('seconds')), keySpecs: RW_UPDATE }],
  ['pexpire', { summary: 'Gives a key a time to live in milliseconds.', since: '2.6.0',
    group: 'generic', complexity: O1, history: EXPIRE_OPTIONS,
    arguments: expireArguments(int('milliseconds')), keySpecs: RW_UPDATE }],
  ['expireat', { summary: 'Makes a key expire at a Unix time in seconds.', since: '1.2.0',
    group: 'generic', complexity: O1, history: EXPIRE_OPTIONS,
    arguments: expireArguments(unixTime('unix-time-seconds')), keySpecs: RW_UPDATE }],
  ['pexpireat', { summary: 'Makes a key expire at a Unix time in milliseconds.',
    since: '2.6.0', group: 'generic', complexity: O1, history: EXPIRE_OPTIONS,
    arguments: expireArguments(unixTime('unix-time-milliseconds')), keySpecs: RW_UPDATE }],
  ['ttl', keyQuery('Returns the time to live of a key in seconds.', '1.0.0', 'generic',
    RO_ACCESS, ['2.8.0', 'Replies -2 when the key does not exist.'])],
  ['pttl', keyQuery('Returns the time to live of a key in milliseconds.', '2.6.0', 'generic',
    RO_ACCESS, ['2.8.0', 'Replies -2 when the key does not exist.'])],
  ['expiretime', keyQuery('Returns the Unix time in seconds at which a key expires.',
    '7.0.0', 'generic', RO_ACCESS)],
  ['pexpiretime', keyQuery('Returns the Unix time in milliseconds at which a key expires.',
    '7.0.0', 'generic', RO_ACCESS)],
  ['persist', keyQuery('Makes a key permanent by dropping its time to live.', '2.2.0',
    'generic', RW_UPDATE)],
  ['rename', { summary: 'Moves a key to a new name, replacing any key there.',
    since: '1.0.0', group: 'generic', complexity: O1,
    arguments: [KEY, key('newkey', 1)],
    keySpecs: [keyAt(['RW', 'access', 'delete']), keyAt(['OW', 'update'], 2)] }],
  ['renamenx', { summary: 'Moves a key to a new name only when that name is unused.',
    since: '1.0.0', group: 'generic', complexity: O1,
    history: [['3.2.0', 'Equal source and destination names are no longer an error.']],
    arguments: [KEY, key('newkey', 1)],
    keySpecs: [keyAt(['RW', 'access', 'delete']), keyAt(['OW', 'insert'], 2)] }],
  ['copy', { summary: 'Copies the value of a key to another key.', since: '6.2.0',
    group: 'generic', complexity: 'O(N) where N is the size of the value',
    arguments: [key('source', 0), key('destination', 1),
      int('destination-db', { token: 'DB', flags: OPTIONAL }),
      token('REPLACE', OPTIONAL_ONLY)],
    keySpecs: [keyAt(['RO', 'access']), keyAt(['OW', 'update'], 2)] }],
];

const DATABASE_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['keys', { summary: 'Returns the names of the keys that match a glob pattern.',
    since: '1.0.0', group: 'generic', complexity: 'O(N) where N is the number of keys',
    arguments: [pattern('pattern')] }],
  ['scan', { summary: 'Walks the key names with a cursor.', since: '2.8.0',
    group: 'generic', complexity: 'O(1) per call, O(N) for a full iteration',
    history: [['6.0.0', 'TYPE option.']],
    arguments: [int('cursor'), pattern('pattern', { token: 'MATCH', flags: OPTIONAL }),
      int('count', { token: 'COUNT', flags: OPTIONAL }),
      str('type', { token: 'TYPE', since: '6.0.0', flags: OPTIONAL })] }],
  ['randomkey', { summary: 'Returns the name of a key picked at random.', since: '1.0.0',
    group: 'generic', complexity: O1 }],
  ['dbsize', { summary: 'Returns how many keys the current database holds.', since: '1.0.0',
    group: 'server', complexity: O1 }],
  ['flushdb', { summary: 'Deletes every key of the current database.', since: '1.0.0',
    group: 'server', complexity: 'O(N) where N is the number of keys in the database',
    history: FLUSH_HISTORY, arguments: [FLUSH_MODE] }],
  ['flushall', { summary: 'Deletes every key of every database.', since: '1.0.0',
    group: 'server', complexity: 'O(N) where N is the number of keys',
    history: FLUSH_HISTORY, arguments: [FLUSH_MODE] }],
];

const CONNECTION_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['ping', { summary: 'Checks that the server answers, optionally echoing a message.',
    since: '1.0.0', group: 'connection', complexity: O1,
    arguments: [str('message', OPTIONAL_ONLY)] }],
  ['echo', { summary: 'Replies with the message it was sent.', since: '1.0.0',
    group: 'connection', complexity: O1, arguments: [str('message')] }],
  ['hello', { summary: 'Picks the protocol version, and may authenticate and name the '
    + 'connection.', since: '6.0.0', group: 'connection', complexity: O1,
    history: [['6.2.0', 'protover is optional; with no arguments it reports the connection.']],
    arguments: [block('arguments', [int('protover'),
      block('username_password', [str('username'), str('password')],
        { token: 'AUTH', flags: OPTIONAL }),
      str('clientname', { token: 'SETNAME', flags: OPTIONAL })], OPTIONAL_ONLY)] }],
  ['auth', { summary: 'Authenticates the connection.', since: '1.0.0', group: 'connection',
    complexity: 'O(N) where N is the number of passwords of the user',
    history: [['6.0.0', 'Optional username (ACL users).']],
    arguments: [str('username', { since: '6.0.0', flags: OPTIONAL }), str('password')] }],
  ['select', { summary: 'Switches the connection to another database.', since: '1.0.0',
    group: 'connection', complexity: O1, arguments: [int('index')] }],
  ['quit', { summary: 'Asks the server to close the connection.', since: '1.0.0',
    group: 'connection', complexity: O1 }],
  ['reset', { summary: 'Puts the connection back in its initial state.', since: '6.2.0',
    group: 'connection', complexity: O1 }],
];

const CLIENT_TYPES = [token('NORMAL'), token('MASTER'), token('REPLICA'), token('PUBSUB')];

const CLIENT_KILL_FILTERS: readonly ArgumentDoc[] = [
  int('client-id', { token: 'ID', since: '2.8.12', flags: OPTIONAL }),
  oneof('normal_master_slave_pubsub', [token('NORMAL'), token('MASTER', { since: '3.2.0' }),
    token('SLAVE'), token('REPLICA', { since: '5.0.0' }), token('PUBSUB')],
  { token: 'TYPE', since: '2.8.12', flags: OPTIONAL }),
  str('username', { token: 'USER', flags: OPTIONAL }),
  str('ip:port', { token: 'ADDR', flags: OPTIONAL }),
  str('ip:port', { token: 'LADDR', since: '6.2.0', flags: OPTIONAL }),
  str('yes/no', { token: 'SKIPME', flags: OPTIONAL }),
];

const CLIENT_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['client', { summary: 'Container for commands about client connections.', since: '2.4.0',
    group: 'connection', complexity: BY_SUBCOMMAND }],
  ['client|id', { summary: 'Returns the ID of this connection.', since: '5.0.0',
    group: 'connection', complexity: O1 }],
  ['client|setname', { summary: 'Names this connection.', since: '2.6.9',
    group: 'connection', complexity: O1, arguments: [str('connection-name')] }],
  ['client|getname', { summary: 'Returns the name of this connection.', since: '2.6.9',
    group: 'connection', complexity: O1 }],
  ['client|setinfo', { summary: 'Records the client library name or version of this '
    + 'connection.', since: '7.2.0', group: 'connection', complexity: O1,
    // Redis 7.2 spells these two tokens in lower case.
    arguments: [oneof('attr', [str('libname', { token: 'lib-name' }),
      str('libver', { token: 'lib-ver' })])] }],
  ['client|info', { summary: 'Describes this connection.', since: '6.2.0',
    group: 'connection', complexity: O1 }],
  ['client|list', { summary: 'Describes the open client connections.', since: '2.4.0',
    group: 'connection', complexity: 'O(N) where N is the number of connections',
    history: [['2.8.12', 'id field.'], ['5.0.0', 'TYPE filter.'], ['6.0.0', 'user field.'],
      ['6.2.0', 'argv-mem, tot-mem, laddr and redir fields; ID filter.'],
      ['7.0.0', 'resp, multi-mem, rbs and rbp fields.'], ['7.0.3', 'ssub field.']],
    arguments: [
      oneof('normal_master_replica_pubsub', CLIENT_TYPES,
        { token: 'TYPE', since: '5.0.0', flags: OPTIONAL }),
      block('id', [int('client-id', { flags: MULTIPLE })],
        { token: 'ID', since: '6.2.0', flags: OPTIONAL })] }],
  ['client|kill', { summary: 'Closes client connections chosen by address, ID, type or '
    + 'user.', since: '2.4.0', group: 'connection',
    complexity: 'O(N) where N is the number of connections',
    history: [['2.8.12', 'Filter form.'], ['2.8.12', 'ID filter.'],
      ['3.2.0', 'master type.'], ['5.0.0', 'replica type (slave still accepted).'],
      ['6.2.0', 'LADDR filter.']],
    arguments: [oneof('filter', [str('ip:port', { deprecatedSince: '2.8.12' }),
      oneof('new-format', CLIENT_KILL_FILTERS, { flags: MULTIPLE })])] }],
  ['client|no-evict', { summary: 'Exempts this connection from client eviction, or ends '
    + 'the exemption.', since: '7.0.0', group: 'connection', complexity: O1,
    arguments: [ON_OFF('enabled')] }],
  ['client|no-touch', { summary: 'Chooses whether this connection\'s commands update the '
    + 'access time of keys.', since: '7.2.0', group: 'connection', complexity: O1,
    arguments: [ON_OFF('enabled')] }],
  ['client|reply', { summary: 'Turns replies to this connection on or off, or skips the '
    + 'next one.', since: '3.2.0', group: 'connection', complexity: O1,
    arguments: [oneof('on_off_skip', [token('ON'), token('OFF'), token('SKIP')])] }],
  ['client|help', helpDocs('CLIENT', '5.0.0', 'connection')],
];

const ACL_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['acl', { summary: 'Container for commands about users and their permissions.',
    since: '6.0.0', group: 'server', complexity: BY_SUBCOMMAND }],
  ['acl|cat', { summary: 'Lists the ACL categories, or the commands of one category.',
    since: '6.0.0', group: 'server', complexity: 'O(1): the categories are a fixed set',
    arguments: [str('categoryname', OPTIONAL_ONLY)] }],
  ['acl|deluser', { summary: 'Removes users and closes their connections.', since: '6.0.0',
    group: 'server', complexity: 'O(N) where N is the number of users removed',
    arguments: [str('username', { flags: MULTIPLE })] }],
  ['acl|getuser', { summary: 'Returns the flags, password hashes and permissions of a user.',
    since: '6.0.0', group: 'server', complexity: 'O(N) where N is the number of rules',
    history: [['6.2.0', 'Channel patterns.'],
      ['7.0.0', 'Selectors; key and channel patterns in rule form.']],
    arguments: [str('username')] }],
  ['acl|help', helpDocs('ACL', '6.0.0', 'server')],
  ['acl|list', { summary: 'Returns every user as a config file line.', since: '6.0.0',
    group: 'server', complexity: 'O(N) where N is the number of users' }],
  ['acl|setuser', { summary: 'Creates a user or changes its rules.', since: '6.0.0',
    group: 'server', complexity: 'O(N) where N is the number of rules',
    history: [['6.2.0', 'Channel patterns.'], ['7.0.0', 'Selectors and read/write key '
      + 'patterns.']],
    arguments: [str('username'), str('rule', { flags: OPTIONAL_MULTIPLE })] }],
  ['acl|users', { summary: 'Returns the names of the users.', since: '6.0.0',
    group: 'server', complexity: 'O(N) where N is the number of users' }],
  ['acl|whoami', { summary: 'Returns the user this connection runs as.', since: '6.0.0',
    group: 'server', complexity: O1 }],
];

const SERVER_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['info', { summary: 'Returns server information and statistics, by section.',
    since: '1.0.0', group: 'server', complexity: O1,
    history: [['7.0.0', 'Takes several sections.']],
    arguments: [str('section', { flags: OPTIONAL_MULTIPLE })] }],
  ['time', { summary: 'Returns the server clock as Unix seconds and microseconds.',
    since: '2.6.0', group: 'server', complexity: O1 }],
  ['lastsave', { summary: 'Returns the Unix time of the last successful save to disk.',
    since: '1.0.0', group: 'server', complexity: O1 }],
  ['save', { summary: 'Writes the data set to disk before replying.', since: '1.0.0',
    group: 'server', complexity: 'O(N) where N is the number of keys' }],
  ['bgsave', { summary: 'Writes the data set to disk in the background.', since: '1.0.0',
    group: 'server', complexity: O1, history: [['3.2.2', 'SCHEDULE option.']],
    arguments: [token('SCHEDULE', { since: '3.2.2', flags: OPTIONAL })] }],
  ['shutdown', { summary: 'Stops the server, saving first unless told otherwise.',
    since: '1.0.0', group: 'server', complexity: 'O(N) when saving, O(1) otherwise',
    history: [['7.0.0', 'NOW, FORCE and ABORT options.']],
    arguments: [oneof('nosave_save', [token('NOSAVE'), token('SAVE')], OPTIONAL_ONLY),
      token('NOW', { since: '7.0.0', flags: OPTIONAL }),
      token('FORCE', { since: '7.0.0', flags: OPTIONAL }),
      token('ABORT', { since: '7.0.0', flags: OPTIONAL })] }],
  ['slowlog', { summary: 'Container for commands about the slow command log.',
    since: '2.2.12', group: 'server', complexity: BY_SUBCOMMAND }],
  ['slowlog|get', { summary: 'Returns the most recent slow log entries.', since: '2.2.12',
    group: 'server', complexity: 'O(N) where N is the number of entries returned',
    history: [['4.0.0', 'Entries name the client address and name.']],
    arguments: [int('count', OPTIONAL_ONLY)] }],
  ['slowlog|len', { summary: 'Returns the number of entries in the slow log.',
    since: '2.2.12', group: 'server', complexity: O1 }],
  ['slowlog|reset', { summary: 'Empties the slow log.', since: '2.2.12', group: 'server',
    complexity: 'O(N) where N is the number of entries' }],
  ['slowlog|help', helpDocs('SLOWLOG', '6.2.0', 'server')],
  ['config', { summary: 'Container for commands about server settings.', since: '2.0.0',
    group: 'server', complexity: BY_SUBCOMMAND }],
  ['config|get', { summary: 'Returns the settings whose names match the patterns.',
    since: '2.0.0', group: 'server', complexity: 'O(N) where N is the number of patterns',
    history: [['7.0.0', 'Takes several patterns.']],
    arguments: [block('parameter', [str('parameter')], { flags: MULTIPLE })] }],
  ['config|set', { summary: 'Changes settings at run time.', since: '2.0.0',
    group: 'server', complexity: 'O(N) where N is the number of settings',
    history: [['7.0.0', 'Takes several setting-value pairs.']],
    arguments: [block('parameter_value', [str('parameter'), str('value')],
      { flags: MULTIPLE })] }],
  ['config|resetstat', { summary: 'Zeroes the statistics INFO reports.', since: '2.0.0',
    group: 'server', complexity: O1 }],
  ['config|rewrite', { summary: 'Writes the current settings back to the configuration '
    + 'file.', since: '2.8.0', group: 'server', complexity: O1 }],
  ['config|help', helpDocs('CONFIG', '5.0.0', 'server')],
];

const COMMAND_NAMES: ArgumentDoc = str('command-name', { flags: OPTIONAL_MULTIPLE });

const INTROSPECTION_DOCS: ReadonlyArray<readonly [string, CommandDocs]> = [
  ['command', { summary: 'Describes every command the server implements.', since: '2.8.13',
    group: 'server', complexity: 'O(N) where N is the number of commands' }],
  ['command|count', { summary: 'Returns the number of commands.', since: '2.8.13',
    group: 'server', complexity: O1 }],
  ['command|info', { summary: 'Describes the named commands, or all of them.',
    since: '2.8.13', group: 'server', complexity: 'O(N) where N is the number of names',
    history: [['7.0.0', 'With no names, describes every command.']],
    arguments: [COMMAND_NAMES] }],
  ['command|docs', { summary: 'Documents the named commands, or all of them.',
    since: '7.0.0', group: 'server', complexity: 'O(N) where N is the number of names',
    arguments: [COMMAND_NAMES] }],
  ['command|list', { summary: 'Lists command names, optionally filtered.', since: '7.0.0',
    group: 'server', complexity: 'O(N) where N is the number of commands',
    arguments: [oneof('filterby', [str('module-name', { token: 'MODULE' }),
      str('category', { token: 'ACLCAT' }), pattern('pattern', { token: 'PATTERN' })],
    { token: 'FILTERBY', flags: OPTIONAL })] }],
  ['command|getkeys', { summary: 'Returns the keys a full command line names.',
    since: '2.8.13', group: 'server', complexity: 'O(N) where N is the number of arguments' }],
  ['command|getkeysandflags', { summary: 'Returns the keys a full command line names, with '
    + 'their access flags.', since: '7.0.0', group: 'server',
    complexity: 'O(N) where N is the number of arguments' }],
  ['command|help', helpDocs('COMMAND', '5.0.0', 'server')],
];

const CLUSTER_DOCS: ReadonlyArray<[string, CommandDocs]> = [
  ['cluster', { summary: 'Container for commands about the cluster.', since: '3.0.0',
    group: 'cluster', complexity: BY_SUBCOMMAND }],
  ['cluster|slots', { summary: 'Slot ranges with the addresses of their replicas.',
    since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the number of ranges',
    docFlags: ['deprecated'], deprecatedSince: '7.0.0', replacedBy: '`CLUSTER SHARDS`',
    history: [['4.0.0', 'Node ids in the reply.'], ['7.0.0', 'Hostnames and metadata.']] }],
  ['cluster|shards', { summary: 'Shards (master and replicas) with their slot ranges.',
    since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the number of shards' }],
  ['cluster|nodes', { summary: 'Every node with its address, state and master slots.',
    since: '3.0.0', group: 'cluster', complexity: 'O(N) where N is the number of nodes' }],
  ['cluster|info', { summary: 'State of the cluster as this node sees it.', since: '3.0.0',
    group: 'cluster', complexity: O1 }],
  ['cluster|myid', { summary: 'The id of this node.', since: '3.0.0', group: 'cluster',
    complexity: O1 }],
  ['cluster|keyslot', { summary: 'The hash slot of a key.', since: '3.0.0', group: 'cluster',
    complexity: 'O(N) where N is the number of bytes in the key', arguments: [str('key')] }],
  ['cluster|countkeysinslot', { summary: 'How many keys this node stores in a slot.',
    since: '3.0.0', group: 'cluster', complexity: O1, arguments: [int('slot')] }],
  ['cluster|getkeysinslot', { summary: 'Keys this node stores in a slot.', since: '3.0.0',
    group: 'cluster', complexity: 'O(N) where N is the number of keys returned',
    arguments: [int('slot'), int('count')] }],
  ['cluster|meet', { summary: 'Makes this node gossip with another one so it joins.',
    since: '3.0.0', group: 'cluster', complexity: O1,
    history: [['4.0.0', 'Optional bus port.']],
    arguments: [str('ip'), int('port'), int('cluster_bus_port', { flags: OPTIONAL,
      since: '4.0.0' })] }],
  ['cluster|forget', { summary: 'Removes a dead node from the cluster.', since: '3.0.0',
    group: 'cluster', complexity: O1, arguments: [str('node-id')] }],
  ['cluster|ring', { summary: 'Tokens and slot ownership of every node (RingKV).',
    since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the number of tokens' }],
  ['cluster|preflist', { summary: 'The replicas of a key in preference order (RingKV).',
    since: '7.0.0', group: 'cluster', complexity: O1, arguments: [str('key')] }],
  ['cluster|repair', { summary: 'Starts anti-entropy with every peer now (RingKV).',
    since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the number of keys' }],
  ['cluster|leave', { summary: 'Hands this node\'s data to the others and stops it (RingKV).',
    since: '7.0.0', group: 'cluster', complexity: 'O(N) where N is the number of keys' }],
  ['cluster|help', helpDocs('CLUSTER', '5.0.0', 'cluster')],
  ['readonly', { summary: 'Accepted for cluster clients; any node serves reads.',
    since: '3.0.0', group: 'cluster', complexity: O1 }],
  ['readwrite', { summary: 'Accepted for cluster clients; any node serves writes.',
    since: '3.0.0', group: 'cluster', complexity: O1 }],
  ['asking', { summary: 'Accepted for cluster clients; RingKV never redirects.',
    since: '3.0.0', group: 'cluster', complexity: O1 }],
  ['consistency', { summary: 'Shows or sets the read and write consistency of this '
    + 'connection (RingKV).', since: '7.0.0', group: 'connection', complexity: O1,
    arguments: [oneof('level', [
      oneof('both', [token('ONE'), token('QUORUM'), token('ALL'), int('replicas')]),
      block('levels', [str('read', { token: 'READ', flags: OPTIONAL }),
        str('write', { token: 'WRITE', flags: OPTIONAL })]),
    ], OPTIONAL_ONLY)] }],
];

const COMMAND_DOCS: ReadonlyMap<string, CommandDocs> = new Map([
  ...CLUSTER_DOCS,
  ...STRING_DOCS, ...KEYSPACE_DOCS, ...DATABASE_DOCS, ...CONNECTION_DOCS, ...CLIENT_DOCS,
  ...ACL_DOCS, ...SERVER_DOCS, ...INTROSPECTION_DOCS,
]);

/** Documentation of a command or "container|sub" by its lower-case full name. */
export function docsOf(name: string): CommandDocs | undefined {
  return COMMAND_DOCS.get(name);
}

/** Every documented name (tests check it against the command table). */
export function documentedNames(): readonly string[] {
  return [...COMMAND_DOCS.keys()];
}
