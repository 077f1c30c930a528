/**
 * ACL users without a server: the rule parser (what ACL LIST prints after each rule list,
 * and Redis 7.0.15's reason for each refused rule), the permission check (commands,
 * subcommands, categories, first arguments, key patterns with read/write access), the
 * users directory (authentication, requirepass, atomic SETUSER, DELUSER, consistency), and
 * the `user` / `user-consistency` directives. Expected texts were recorded from
 * redis-server 7.0.15 unless a comment says the behaviour is RingKV's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandRegistry } from '../../src/commands/table.js';
import type { CommandSpec } from '../../src/commands/spec.js';
import { Config, ConfigError } from '../../src/config/config.js';
import { Users } from '../../src/server/security.js';
import { AclUser, CommandCatalog, RULE_ERRORS } from '../../src/server/users.js';

const registry = new CommandRegistry();
const catalog = new CommandCatalog(registry);

function hash(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

function userWith(rules: readonly string[], name = 'u'): AclUser {
  const user = new AclUser(name, catalog);
  const failure = user.applyRules(rules.map((rule) => Buffer.from(rule, 'latin1')));
  assert.equal(failure, null, `rules ${rules.join(' ')}`);
  return user;
}

function specOf(args: readonly string[]): CommandSpec {
  const top = registry.lookup(args[0] as string);
  assert.ok(top !== undefined, args[0]);
  if (top.subcommands === undefined || args.length < 2) return top;
  const sub = registry.lookupSubcommand(top, args[1] as string);
  assert.ok(sub !== undefined, args.join(' '));
  return sub;
}

function denial(user: AclUser, line: string): string | null {
  const args = line.split(' ');
  return user.denial(specOf(args), args.map((arg) => Buffer.from(arg)));
}

// --- Rule parser: the ACL LIST form after a list of rules --------------------------------

const DESCRIBE_CASES: ReadonlyArray<readonly [readonly string[], string]> = [
  [[], 'off resetchannels -@all'],
  [['on', '>pw', '~foo*', '+get'], `on #${hash('pw')} ~foo* resetchannels -@all +get`],
  [['%R~r*', '%W~w*', '%RW~b*', '&ch*', '-@all', '+@read', '-get'],
    'off %R~r* %W~w* ~b* resetchannels &ch* -@all +@read -get'],
  [['%rw~a', '%wR~b'], 'off ~a ~b resetchannels -@all'],
  // A repeated pattern keeps its place and gains the other access.
  [['~a', '%R~b', '%W~a', '~a'], 'off ~a %R~b resetchannels -@all'],
  [['%R~a', '%R~a', '%W~a'], 'off ~a resetchannels -@all'],
  // %RW~* is an ordinary pattern; only ~* and allkeys mean every key.
  [['%RW~*', '~a'], 'off ~* ~a resetchannels -@all'],
  [['~a', '~*'], 'off ~* resetchannels -@all'],
  [['%R'], 'off %R~ resetchannels -@all'],
  [['allkeys', 'resetkeys'], 'off resetchannels -@all'],
  [['nopass', '>x'], `off #${hash('x')} resetchannels -@all`],
  [['>x', 'nopass'], 'off nopass resetchannels -@all'],
  [['>x', '>x', 'resetpass', '>y', `#${hash('a')}`],
    `off #${hash('y')} #${hash('a')} resetchannels -@all`],
  [['>a', '>b', '<a'], `off #${hash('b')} resetchannels -@all`],
  [['>a', `!${hash('a')}`], 'off resetchannels -@all'],
  [['&a', '&b', '&a', 'allchannels'], 'off &* -@all'],
  [['&a', 'resetchannels', '&b'], 'off resetchannels &b -@all'],
  [['on', '~x', 'reset'], 'off sanitize-payload resetchannels -@all'],
  [['skip-sanitize-payload'], 'off skip-sanitize-payload resetchannels -@all'],
  [['allcommands', '-get', 'nocommands', '+set'], 'off resetchannels -@all +set'],
  [['+@all', '-@dangerous'], 'off resetchannels +@all -@dangerous'],
  [['+client', '-client|kill'], 'off resetchannels -@all +client -client|kill'],
  [['+select|0', '+select|1', '+select|0'], 'off resetchannels -@all +select|0 +select|1'],
  [['+Select|AbC'], 'off resetchannels -@all +select|AbC'],
  [['ON', 'NOPASS', 'allKeys', 'AllChannels', 'AllCommands'], 'on nopass ~* &* +@all'],
  [['+Get', '+CLIENT|ID', '+@Read'], 'off resetchannels -@all +get +client|id +@read'],
  [['', 'clearselectors'], 'off resetchannels -@all'],
  // RingKV's own (Redis 7.2's form): a later rule about a command replaces earlier ones.
  [['+get', '-get'], 'off resetchannels -@all -get'],
  [['+client|id', '+config|get', '+client'], 'off resetchannels -@all +config|get +client'],
  [['+@read', '+@write', '-@read'], 'off resetchannels -@all +@write -@read'],
];

for (const [rules, expected] of DESCRIBE_CASES) {
  test(`rules [${rules.join(' ')}] describe as: ${expected}`, () => {
    assert.equal(userWith(rules).describe(), expected);
  });
}

test('GETUSER details: flags, password hashes and the three rule strings', () => {
  const user = userWith(['on', 'nopass', 'skip-sanitize-payload', '%R~r*', '~b*', '&ch*',
    '+@read']);
  assert.deepEqual(user.details(), {
    flags: ['on', 'nopass', 'skip-sanitize-payload'], passwords: [],
    commands: '-@all +@read', keys: '%R~r* ~b*', channels: '&ch*',
  });
  const other = userWith(['>pw', 'allkeys', 'allchannels', '+@all']);
  assert.deepEqual(other.details(), {
    flags: ['off'], passwords: [hash('pw')], commands: '+@all', keys: '~*', channels: '&*',
  });
  assert.equal(userWith([]).details().keys, '');
  assert.equal(userWith([]).details().channels, '');
});

const ERROR_CASES: ReadonlyArray<readonly [readonly string[], string]> = [
  [['bogus'], RULE_ERRORS.syntax],
  [['+nosuch'], RULE_ERRORS.unknownCommand],
  [['+@nosuch'], RULE_ERRORS.unknownCommand],
  [['-@nosuch'], RULE_ERRORS.unknownCommand],
  [['+client|nosuch'], RULE_ERRORS.unknownCommand],
  [['-select|0'], RULE_ERRORS.unknownCommand],
  [['+get|a|b'], RULE_ERRORS.unknownCommand],
  [['+client|id|x'], RULE_ERRORS.firstArgOfSubcommand],
  [['+config|get|x'], RULE_ERRORS.firstArgOfSubcommand],
  [['+get|'], RULE_ERRORS.syntax],
  [['+|'], RULE_ERRORS.unknownCommand],
  [['+'], RULE_ERRORS.unknownCommand],
  [['-'], RULE_ERRORS.unknownCommand],
  [['+@all|x'], RULE_ERRORS.unknownCommand],
  [['#abc'], RULE_ERRORS.badHash],
  [[`#${hash('a').toUpperCase()}`], RULE_ERRORS.badHash],
  [[`!${'0'.repeat(64)}`], RULE_ERRORS.noSuchPassword],
  [['<nosuch'], RULE_ERRORS.noSuchPassword],
  [['%~x'], RULE_ERRORS.syntax],
  [['%X~a'], RULE_ERRORS.syntax],
  [['%RWR~a'], RULE_ERRORS.syntax],
  [['~a b'], RULE_ERRORS.syntax],
  [['&a b'], RULE_ERRORS.syntax],
  [['~*', '~a'], RULE_ERRORS.keyAfterAll],
  [['allkeys', '%R~a'], RULE_ERRORS.keyAfterAll],
  [['&*', '&a'], RULE_ERRORS.channelAfterAll],
  // RingKV's own: selectors are not implemented.
  [['(+get ~a)'], RULE_ERRORS.selectors],
];

for (const [rules, reason] of ERROR_CASES) {
  test(`rules [${rules.join(' ')}] are refused: ${reason.slice(0, 40)}`, () => {
    const user = new AclUser('u', catalog);
    const failure = user.applyRules(rules.map((rule) => Buffer.from(rule)));
    assert.deepEqual(failure, [rules.length - 1, reason]);
  });
}

test('Redis error texts, byte for byte', () => {
  assert.equal(RULE_ERRORS.keyAfterAll, "Adding a pattern after the * pattern (or the " +
    "'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start " +
    'with an empty list of patterns');
  assert.equal(RULE_ERRORS.badHash, 'The password hash must be exactly 64 characters and ' +
    'contain only lowercase hexadecimal characters');
});

// --- Permission checks -------------------------------------------------------------------

test('key patterns: %R~ needs key-spec read access, %W~ insert/update/delete', () => {
  const user = userWith(['%R~r*', '%W~w*', '~b*', '+@all', '-client|kill']);
  const cases: ReadonlyArray<readonly [string, string | null]> = [
    ['GET r1', null], ['GET w1', 'key'], ['GET b1', null], ['GET zz', 'key'],
    ['SET w1 x', null], ['SET r1 x', 'key'], ['SET w1 x GET', 'key'], ['SET b1 x GET', null],
    ['SET w1 x EX 5', null],
    // EXISTS and TYPE read no value (key spec RO without access): any pattern will do.
    ['EXISTS w1', null], ['EXISTS r1 w1 zz', 'key'], ['TYPE w1', null],
    ['MGET r1 w1', 'key'], ['MGET r1 b2', null], ['TTL w1', 'key'], ['TTL r1', null],
    ['COPY r1 w1', null], ['COPY w1 r1', 'key'], ['RENAME r1 w1', 'key'],
    ['RENAME b1 w1', null], ['DEL w1 b1', null], ['DEL r1', 'key'], ['GETDEL w1', 'key'],
    ['APPEND r1 x', 'key'], ['MSET w1 1 b2 2', null], ['MSET w1 1 r2 2', 'key'],
    // An argument list that does not fit the key spec names no keys (arity reports it).
    ['MSET w1 1 zz', 'key'], ['KEYS *', null], ['DBSIZE', null], ['FLUSHALL', null],
    ['CLIENT KILL ID 5', 'command'], ['CLIENT ID', null],
  ];
  for (const [line, expected] of cases) assert.equal(denial(user, line), expected, line);
});

test('commands: names, subcommands, containers, first arguments, no_auth commands', () => {
  const user = userWith(['allkeys', '+client', '-client|kill', '+select|0', '+config|get']);
  const cases: ReadonlyArray<readonly [string, string | null]> = [
    ['CLIENT ID', null], ['CLIENT LIST', null], ['CLIENT KILL ID 5', 'command'],
    ['SELECT 0', null], ['select 1', 'command'], ['CONFIG GET port', null],
    ['CONFIG SET hz 5', 'command'], ['GET k', 'command'],
    ['AUTH x', null], ['HELLO 3', null], ['QUIT', null], ['RESET', null],
  ];
  for (const [line, expected] of cases) assert.equal(denial(user, line), expected, line);
  assert.equal(denial(userWith(['allkeys', '+select|AbC']), 'SELECT abc'), null);
});

test('categories: a container in the category brings all its subcommands', () => {
  const slow = userWith(['allkeys', '+@slow']);
  assert.equal(denial(slow, 'CLIENT ID'), null, 'client is @slow');
  assert.equal(denial(slow, 'CONFIG GET port'), null);
  assert.equal(denial(slow, 'GET k'), 'command');
  const connection = userWith(['allkeys', '+@connection']);
  assert.equal(denial(connection, 'CLIENT ID'), null, 'client|id is @connection itself');
  assert.equal(denial(connection, 'CONFIG GET port'), 'command');
  assert.equal(denial(connection, 'PING'), null);
  const noDangerous = userWith(['allkeys', '+@all', '-@dangerous']);
  assert.equal(denial(noDangerous, 'FLUSHALL'), 'command');
  assert.equal(denial(noDangerous, 'KEYS *'), 'command');
  assert.equal(denial(noDangerous, 'GET k'), null);
  assert.equal(denial(noDangerous, 'CLIENT KILL ID 5'), 'command');
});

test('unrestricted (the one-flag fast path) only for every command on every key', () => {
  assert.equal(userWith(['+@all', '~*']).unrestricted, true);
  assert.equal(userWith(['allkeys', '-@all', '+@all']).unrestricted, true);
  assert.equal(userWith(['+@all', '-get', '~*']).unrestricted, false);
  assert.equal(userWith(['+@all', '~a*']).unrestricted, false);
  assert.equal(userWith(['-@all', 'allkeys']).unrestricted, false);
  const user = userWith(['+@all', '~*']);
  assert.equal(user.applyRules([Buffer.from('resetkeys')]), null);
  assert.equal(user.unrestricted, false, 'kept in step with the rules');
});

// --- Users directory ---------------------------------------------------------------------

function users(): Users {
  return new Users(catalog);
}

test('the default user, requirepass, and authentication', () => {
  const directory = users();
  assert.equal(directory.describe('default'), 'on nopass ~* &* +@all');
  assert.equal(directory.required, false);
  assert.equal(directory.defaultUserNoPass, true);
  assert.equal(directory.access('default').unrestricted, true);
  assert.equal(directory.authenticate('default', Buffer.from('anything')), true);
  directory.setDefaultPassword('secret');
  assert.equal(directory.describe('default'), `on #${hash('secret')} ~* &* +@all`);
  assert.equal(directory.required, true);
  assert.equal(directory.defaultUserNoPass, false);
  assert.equal(directory.authenticate('default', Buffer.from('secret')), true);
  assert.equal(directory.authenticate('default', Buffer.from('wrong')), false);
  assert.equal(directory.authenticate('nosuch', Buffer.from('secret')), false);
  assert.equal(directory.denials.auth, 2);
  directory.setDefaultPassword('');
  assert.equal(directory.required, false);
});

test('SETUSER is all or nothing; users authenticate only when on', () => {
  const directory = users();
  const rules = (...words: string[]): Buffer[] => words.map((word) => Buffer.from(word));
  assert.equal(directory.setUser('alice', rules('on', 'bogus')),
    "ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
  assert.equal(directory.describe('alice'), null, 'not created');
  assert.equal(directory.setUser('alice', rules('on', '>pw', '~*', '+@all')), null);
  assert.equal(directory.setUser('alice', rules('off', '+nosuch')),
    "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL");
  assert.equal(directory.authenticate('alice', Buffer.from('pw')), true, 'unchanged');
  const live = directory.access('alice');
  assert.equal(directory.setUser('alice', rules('off')), null);
  assert.equal(directory.authenticate('alice', Buffer.from('pw')), false);
  assert.equal(live.unrestricted, true, 'connections keep the same user object');
  assert.equal(directory.setUser('alice', rules('-get')), null);
  assert.equal(live.unrestricted, false, '... which follows the new rules');
  assert.equal(directory.setUser('a b', []), "ERR Usernames can't contain spaces or null " +
    'characters');
  assert.equal(directory.setUser('nopw', rules('on')), null);
  assert.equal(directory.authenticate('nopw', Buffer.from('')), false);
  assert.deepEqual(directory.userNames(), ['alice', 'default', 'nopw']);
});

test('DELUSER: never the default user; a removed user may do nothing', () => {
  const directory = users();
  assert.equal(directory.setUser('bob', [Buffer.from('+@all'), Buffer.from('~*')]), null);
  const bob = directory.access('bob');
  assert.equal(directory.deleteUser('default'), false);
  assert.equal(directory.deleteUser('bob'), true);
  assert.equal(directory.deleteUser('bob'), false);
  assert.equal(bob.denial(specOf(['PING']), [Buffer.from('PING')]), 'command');
  assert.equal(directory.access('bob').denial(specOf(['PING']), [Buffer.from('PING')]),
    'command', 'an unknown name runs as nobody');
});

// --- Configuration -----------------------------------------------------------------------

interface Context {
  after: (fn: () => void) => void;
}

function configFile(t: Context, lines: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-acl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ringkv.conf');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function loadUsers(argv: string[], env: NodeJS.ProcessEnv = {}, factor = 3): Users {
  return Users.fromConfig(Config.load(argv, env), registry, factor);
}

function usersError(argv: string[], env: NodeJS.ProcessEnv = {}, factor = 3): string {
  try {
    loadUsers(argv, env, factor);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

test('user lines: declared users, requirepass, and `user default` overriding it', (t) => {
  const path = configFile(t, [
    'requirepass foo',
    'user alice on >pw ~foo* +get',
    'user "bob" on nopass "%R~r*" -@all +@read',
  ]);
  const directory = loadUsers([path]);
  assert.equal(directory.describe('alice'), `on #${hash('pw')} ~foo* resetchannels -@all +get`);
  assert.equal(directory.describe('bob'), 'on nopass %R~r* resetchannels -@all +@read');
  assert.equal(directory.describe('default'), `on #${hash('foo')} ~* &* +@all`);
  // As in Redis: the default user's line starts from `reset`, whatever the order.
  const other = configFile(t, ['user default on nopass ~* +@all', 'requirepass foo']);
  assert.equal(loadUsers([other]).describe('default'),
    'on nopass sanitize-payload ~* resetchannels +@all');
});

test('user lines: errors name the file, line and Redis reason', (t) => {
  const path = configFile(t, ['port 7000', 'user alice on >pw', 'user bob on nosuchrule']);
  assert.equal(usersError([path]),
    `${path}:3: Error in user declaration 'bob': Syntax error (rule 'nosuchrule')`);
  const unknown = configFile(t, ['user alice +nosuch']);
  assert.equal(usersError([unknown]), `${unknown}:1: Error in user declaration 'alice': ` +
    "Unknown command or category name in ACL (rule '+nosuch')");
  const password = configFile(t, ['user alice <secret']);
  assert.match(usersError([password]), /does not exist \(a password rule\)$/);
  const duplicate = configFile(t, ['user alice on', 'user alice off']);
  assert.equal(usersError([duplicate]), `${duplicate}:2: Error in user declaration 'alice': ` +
    'Duplicate user found. A user can only be defined once in config files');
  const empty = configFile(t, ['user']);
  assert.throws(() => Config.load([empty], {}), new RegExp(`${empty}:1: wrong number`));
});

test('user lines from flags and the environment; a later source replaces a user', (t) => {
  const path = configFile(t, ['user alice on >one ~*']);
  const directory = loadUsers([path, '--user', 'alice', 'on', '>two', '~a*'],
    { RINGKV_USER: 'carol on nopass\ndave off' });
  assert.equal(directory.authenticate('alice', Buffer.from('two')), true);
  assert.equal(directory.authenticate('alice', Buffer.from('one')), false);
  assert.deepEqual(directory.userNames(), ['alice', 'carol', 'dave', 'default']);
  assert.equal(usersError(['--user', 'x', 'on', '--user', 'x', 'off']),
    "command-line flag --user: Error in user declaration 'x': Duplicate user found. A user " +
    'can only be defined once in config files');
});

test('user-consistency: levels per user, errors with file and line', (t) => {
  const path = configFile(t, [
    'user alice on nopass', 'user bob on nopass',
    'user-consistency alice ALL',
    'user-consistency bob READ one',
    'user-consistency bob WRITE 2',
    'user-consistency default quorum',
  ]);
  const directory = loadUsers([path]);
  const base = { read: 'one' as const, write: 'one' as const };
  assert.deepEqual(directory.consistencyFor('alice', base), { read: 'all', write: 'all' });
  assert.deepEqual(directory.consistencyFor('bob', base), { read: 'one', write: 2 });
  assert.deepEqual(directory.consistencyFor('default', base), { read: 'quorum', write: 'quorum' });
  assert.deepEqual(directory.consistencyFor('carol', base), base);
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['user-consistency nobody ONE', "names the user 'nobody', which no user line declares"],
    ['user-consistency alice sometimes', "invalid consistency level 'sometimes'"],
    ['user-consistency alice READ', 'user-consistency takes <name> <level>'],
    ['user-consistency alice SIDEWAYS one', 'user-consistency takes <name> <level>'],
    ['user-consistency alice 2', 'consistency level 2 exceeds the replication factor 1'],
  ];
  for (const [line, message] of cases) {
    const bad = configFile(t, ['user alice on', line]);
    const error = usersError([bad], {}, 1);
    assert.ok(error.startsWith(`${bad}:2: `), error);
    assert.ok(error.includes(message), `${error} should include ${message}`);
  }
});

test('CONFIG GET / SET do not know user lines; CONFIG REWRITE writes the users back', (t) => {
  const path = configFile(t, [
    '# users', 'user alice on >pw ~* +@all', 'port 7000', 'user bob on nopass',
    'user-consistency alice ALL', 'requirepass foo',
  ]);
  const config = Config.load([path], {});
  const directory = Users.fromConfig(config, registry, 3);
  assert.deepEqual(config.get([Buffer.from('user')]), []);
  assert.ok(!config.get([Buffer.from('*')]).some(([name]) => name.startsWith('user')));
  assert.equal(config.set([['user', 'x']]),
    "ERR Unknown option or number of arguments for CONFIG SET - 'user'");
  assert.equal(directory.setUser('carol', ['on', '>c', '%R~c*', '+get'].map((rule) =>
    Buffer.from(rule))), null);
  assert.equal(directory.deleteUser('bob'), true);
  assert.equal(config.rewrite(), null);
  const text = readFileSync(path, 'utf8');
  assert.deepEqual(text.split('\n').slice(0, 4), ['# users',
    `user alice on #${hash('pw')} ~* resetchannels +@all`,
    `user carol on #${hash('c')} %R~c* resetchannels -@all +get`, 'port 7000']);
  assert.ok(!text.includes('user default'), 'the default user is what requirepass makes it');
  assert.ok(text.includes('user-consistency alice READ ALL WRITE ALL'));
  const reloaded = loadUsers([path]);
  for (const name of ['alice', 'carol', 'default']) {
    assert.equal(reloaded.describe(name), directory.describe(name), name);
  }
  assert.equal(reloaded.describe('bob'), null);
  directory.setDefaultPassword('');
  assert.equal(directory.setUser('default', [Buffer.from('-@dangerous')]), null);
  assert.equal(config.rewrite(), null);
  assert.ok(readFileSync(path, 'utf8').includes('user default on nopass ~* &* +@all ' +
    '-@dangerous'), 'a changed default user is written');
});
