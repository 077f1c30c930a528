/**
 * The command table: every command RingKV serves, with the arity, flags, key positions,
 * ACL categories and tips Redis 7 reports for it (COMMAND INFO), and its handler.
 * A command not in this table gets Redis's unknown-command error.
 */
import type { CommandTable } from './context.js';
import * as acl from './acl.js';
import * as cluster from './cluster.js';
import * as command from './command.js';
import * as connection from './connection.js';
import * as keys from './keys.js';
import * as server from './server.js';
import * as strings from './strings.js';
import {
  NO_KEYS,
  ONE_KEY,
  type CommandFlag,
  type CommandSpec,
  type Handler,
  type KeyPositions,
} from './spec.js';

interface Options {
  keys?: KeyPositions;
  tips?: readonly string[];
}

function spec(name: string, arity: number, flags: readonly CommandFlag[],
    aclCategories: readonly string[], handler: Handler, options: Options = {}): CommandSpec {
  return {
    name,
    arity,
    flags,
    keys: options.keys ?? NO_KEYS,
    aclCategories,
    tips: options.tips ?? [],
    handler,
  };
}

function container(name: string, arity: number, flags: readonly CommandFlag[],
    aclCategories: readonly string[], subcommands: CommandSpec[],
    handler?: Handler, tips: readonly string[] = []): CommandSpec {
  const entry: CommandSpec = { name, arity, flags, keys: NO_KEYS, aclCategories, tips,
    subcommands };
  return handler === undefined ? entry : { ...entry, handler };
}

const ALL_KEYS: KeyPositions = { first: 1, last: -1, step: 1 };
const KEY_VALUE_PAIRS: KeyPositions = { first: 1, last: -1, step: 2 };
const TWO_KEYS: KeyPositions = { first: 1, last: 2, step: 1 };

const READ_STRING = ['@read', '@string', '@fast'];
const WRITE_STRING_FAST = ['@write', '@string', '@fast'];
const WRITE_STRING_SLOW = ['@write', '@string', '@slow'];
const KEYSPACE_READ_FAST = ['@keyspace', '@read', '@fast'];
const KEYSPACE_WRITE_FAST = ['@keyspace', '@write', '@fast'];
const KEYSPACE_WRITE_SLOW = ['@keyspace', '@write', '@slow'];
const CONNECTION_FAST = ['@fast', '@connection'];
const CONNECTION_SLOW = ['@slow', '@connection'];
const ADMIN_CONNECTION = ['@admin', '@slow', '@dangerous', '@connection'];
const ADMIN_SLOW = ['@admin', '@slow', '@dangerous'];
const MULTI_SHARD_SUM = ['request_policy:multi_shard', 'response_policy:agg_sum'];
const ALL_NODES = ['request_policy:all_nodes', 'response_policy:all_succeeded'];
const NO_AUTH_FLAGS: CommandFlag[] = ['noscript', 'loading', 'stale', 'fast', 'no_auth',
  'allow_busy'];
const CLIENT_FLAGS: CommandFlag[] = ['noscript', 'loading', 'stale'];
const CLIENT_ADMIN_FLAGS: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];

const COMMANDS: CommandSpec[] = [
  // Strings
  spec('get', 2, ['readonly', 'fast'], READ_STRING, strings.getCommand, { keys: ONE_KEY }),
  spec('set', -3, ['write', 'denyoom'], WRITE_STRING_SLOW, strings.setCommand, { keys: ONE_KEY }),
  spec('setnx', 3, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.setnxCommand,
    { keys: ONE_KEY }),
  spec('setex', 4, ['write', 'denyoom'], WRITE_STRING_SLOW, strings.setexCommand,
    { keys: ONE_KEY }),
  spec('psetex', 4, ['write', 'denyoom'], WRITE_STRING_SLOW, strings.psetexCommand,
    { keys: ONE_KEY }),
  spec('getset', 3, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.getsetCommand,
    { keys: ONE_KEY }),
  spec('getdel', 2, ['write', 'fast'], WRITE_STRING_FAST, strings.getdelCommand,
    { keys: ONE_KEY }),
  spec('getex', -2, ['write', 'fast'], WRITE_STRING_FAST, strings.getexCommand,
    { keys: ONE_KEY }),
  spec('mget', -2, ['readonly', 'fast'], READ_STRING, strings.mgetCommand,
    { keys: ALL_KEYS, tips: ['request_policy:multi_shard'] }),
  spec('mset', -3, ['write', 'denyoom'], WRITE_STRING_SLOW, strings.msetCommand,
    { keys: KEY_VALUE_PAIRS,
      tips: ['request_policy:multi_shard', 'response_policy:all_succeeded'] }),
  spec('msetnx', -3, ['write', 'denyoom'], WRITE_STRING_SLOW, strings.msetnxCommand,
    { keys: KEY_VALUE_PAIRS, tips: ['request_policy:multi_shard', 'response_policy:agg_min'] }),
  spec('append', 3, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.appendCommand,
    { keys: ONE_KEY }),
  spec('strlen', 2, ['readonly', 'fast'], READ_STRING, strings.strlenCommand, { keys: ONE_KEY }),
  spec('getrange', 4, ['readonly'], ['@read', '@string', '@slow'], strings.getrangeCommand,
    { keys: ONE_KEY }),
  spec('setrange', 4, ['write', 'denyoom'], WRITE_STRING_SLOW, strings.setrangeCommand,
    { keys: ONE_KEY }),
  spec('incr', 2, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.incrCommand,
    { keys: ONE_KEY }),
  spec('decr', 2, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.decrCommand,
    { keys: ONE_KEY }),
  spec('incrby', 3, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.incrbyCommand,
    { keys: ONE_KEY }),
  spec('decrby', 3, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST, strings.decrbyCommand,
    { keys: ONE_KEY }),
  spec('incrbyfloat', 3, ['write', 'denyoom', 'fast'], WRITE_STRING_FAST,
    strings.incrbyfloatCommand, { keys: ONE_KEY }),

  // Keys
  spec('del', -2, ['write'], KEYSPACE_WRITE_SLOW, keys.delCommand,
    { keys: ALL_KEYS, tips: MULTI_SHARD_SUM }),
  spec('unlink', -2, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.delCommand,
    { keys: ALL_KEYS, tips: MULTI_SHARD_SUM }),
  spec('exists', -2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.existsCommand,
    { keys: ALL_KEYS, tips: MULTI_SHARD_SUM }),
  spec('touch', -2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.touchCommand,
    { keys: ALL_KEYS, tips: MULTI_SHARD_SUM }),
  spec('type', 2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.typeCommand, { keys: ONE_KEY }),
  spec('expire', -3, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.expireCommand,
    { keys: ONE_KEY }),
  spec('pexpire', -3, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.pexpireCommand,
    { keys: ONE_KEY }),
  spec('expireat', -3, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.expireatCommand,
    { keys: ONE_KEY }),
  spec('pexpireat', -3, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.pexpireatCommand,
    { keys: ONE_KEY }),
  spec('ttl', 2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.ttlCommand,
    { keys: ONE_KEY, tips: ['nondeterministic_output'] }),
  spec('pttl', 2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.pttlCommand,
    { keys: ONE_KEY, tips: ['nondeterministic_output'] }),
  spec('expiretime', 2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.expiretimeCommand,
    { keys: ONE_KEY }),
  spec('pexpiretime', 2, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.pexpiretimeCommand,
    { keys: ONE_KEY }),
  spec('persist', 2, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.persistCommand,
    { keys: ONE_KEY }),
  spec('rename', 3, ['write'], KEYSPACE_WRITE_SLOW, keys.renameCommand, { keys: TWO_KEYS }),
  spec('renamenx', 3, ['write', 'fast'], KEYSPACE_WRITE_FAST, keys.renamenxCommand,
    { keys: TWO_KEYS }),
  spec('copy', -3, ['write', 'denyoom'], KEYSPACE_WRITE_SLOW, keys.copyCommand,
    { keys: TWO_KEYS }),
  spec('keys', 2, ['readonly'], ['@keyspace', '@read', '@slow', '@dangerous'], keys.keysCommand,
    { tips: ['request_policy:all_shards', 'nondeterministic_output_order'] }),
  spec('scan', -2, ['readonly'], ['@keyspace', '@read', '@slow'], keys.scanCommand,
    { tips: ['nondeterministic_output', 'request_policy:special'] }),
  spec('randomkey', 1, ['readonly'], ['@keyspace', '@read', '@slow'], keys.randomkeyCommand,
    { tips: ['request_policy:all_shards', 'nondeterministic_output'] }),
  spec('dbsize', 1, ['readonly', 'fast'], KEYSPACE_READ_FAST, keys.dbsizeCommand,
    { tips: ['request_policy:all_shards', 'response_policy:agg_sum'] }),
  spec('flushdb', -1, ['write'], ['@keyspace', '@write', '@slow', '@dangerous'],
    keys.flushdbCommand,
    { tips: ['request_policy:all_shards', 'response_policy:all_succeeded'] }),
  spec('flushall', -1, ['write'], ['@keyspace', '@write', '@slow', '@dangerous'],
    keys.flushallCommand,
    { tips: ['request_policy:all_shards', 'response_policy:all_succeeded'] }),

  // Connection
  spec('ping', -1, ['fast'], CONNECTION_FAST, connection.pingCommand,
    { tips: ['request_policy:all_shards', 'response_policy:all_succeeded'] }),
  spec('echo', 2, ['loading', 'stale', 'fast'], CONNECTION_FAST, connection.echoCommand),
  spec('hello', -1, NO_AUTH_FLAGS, CONNECTION_FAST, connection.helloCommand),
  spec('auth', -2, NO_AUTH_FLAGS, CONNECTION_FAST, connection.authCommand),
  spec('select', 2, ['loading', 'stale', 'fast'], CONNECTION_FAST, connection.selectCommand),
  spec('quit', -1, NO_AUTH_FLAGS, CONNECTION_FAST, connection.quitCommand),
  spec('reset', 1, NO_AUTH_FLAGS, CONNECTION_FAST, connection.resetCommand),
  container('client', -2, [], ['@slow'], [
    spec('client|id', 2, CLIENT_FLAGS, CONNECTION_SLOW, connection.clientIdCommand),
    spec('client|setname', 3, CLIENT_FLAGS, CONNECTION_SLOW, connection.clientSetnameCommand),
    spec('client|getname', 2, CLIENT_FLAGS, CONNECTION_SLOW, connection.clientGetnameCommand),
    spec('client|setinfo', 4, CLIENT_FLAGS, CONNECTION_SLOW, connection.clientSetinfoCommand),
    spec('client|info', 2, CLIENT_FLAGS, CONNECTION_SLOW, connection.clientInfoCommand,
      { tips: ['nondeterministic_output'] }),
    spec('client|list', -2, CLIENT_ADMIN_FLAGS, ADMIN_CONNECTION, connection.clientListCommand,
      { tips: ['nondeterministic_output'] }),
    spec('client|kill', -3, CLIENT_ADMIN_FLAGS, ADMIN_CONNECTION, connection.clientKillCommand),
    spec('client|no-evict', 3, CLIENT_ADMIN_FLAGS, ADMIN_CONNECTION,
      connection.clientNoEvictCommand),
    spec('client|no-touch', 3, ['noscript', 'loading', 'stale'], CONNECTION_SLOW,
      connection.clientNoTouchCommand),
    spec('client|reply', 3, CLIENT_FLAGS, CONNECTION_SLOW, connection.clientReplyCommand),
    spec('client|help', 2, ['loading', 'stale'], CONNECTION_SLOW, connection.clientHelpCommand),
  ]),

  container('acl', -2, [], ['@slow'], [
    spec('acl|cat', -2, CLIENT_FLAGS, ['@slow'], acl.aclCatCommand),
    spec('acl|deluser', -3, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, acl.aclDeluserCommand),
    spec('acl|getuser', 3, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, acl.aclGetuserCommand),
    spec('acl|help', 2, ['loading', 'stale'], ['@slow'], acl.aclHelpCommand),
    spec('acl|list', 2, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, acl.aclListCommand),
    spec('acl|setuser', -3, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, acl.aclSetuserCommand),
    spec('acl|users', 2, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, acl.aclUsersCommand),
    spec('acl|whoami', 2, CLIENT_FLAGS, ['@slow'], acl.aclWhoamiCommand),
  ]),

  // Server
  spec('info', -1, ['loading', 'stale'], ['@slow', '@dangerous'], server.infoCommand,
    { tips: ['nondeterministic_output', 'request_policy:all_shards',
      'response_policy:special'] }),
  spec('time', 1, ['loading', 'stale', 'fast'], ['@fast'], server.timeCommand,
    { tips: ['nondeterministic_output'] }),
  spec('lastsave', 1, ['loading', 'stale', 'fast'], ['@admin', '@fast', '@dangerous'],
    server.lastsaveCommand, { tips: ['nondeterministic_output'] }),
  spec('save', 1, ['admin', 'noscript', 'no_async_loading', 'no_multi'], ADMIN_SLOW,
    server.saveCommand),
  spec('bgsave', -1, ['admin', 'noscript', 'no_async_loading'], ADMIN_SLOW,
    server.bgsaveCommand),
  spec('shutdown', -1, ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    ADMIN_SLOW, server.shutdownCommand),
  container('slowlog', -2, [], ['@slow'], [
    spec('slowlog|get', -2, ['admin', 'loading', 'stale'], ADMIN_SLOW, server.slowlogGetCommand,
      { tips: ['request_policy:all_nodes', 'nondeterministic_output'] }),
    spec('slowlog|len', 2, ['admin', 'loading', 'stale'], ADMIN_SLOW, server.slowlogLenCommand,
      { tips: ['request_policy:all_nodes', 'response_policy:agg_sum',
        'nondeterministic_output'] }),
    spec('slowlog|reset', 2, ['admin', 'loading', 'stale'], ADMIN_SLOW,
      server.slowlogResetCommand, { tips: ALL_NODES }),
    spec('slowlog|help', 2, ['loading', 'stale'], ['@slow'], server.slowlogHelpCommand),
  ]),
  container('config', -2, [], ['@slow'], [
    spec('config|get', -3, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, server.configGetCommand),
    spec('config|set', -4, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, server.configSetCommand,
      { tips: ALL_NODES }),
    spec('config|resetstat', 2, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, server.configResetstatCommand),
    spec('config|rewrite', 2, CLIENT_ADMIN_FLAGS, ADMIN_SLOW, server.configRewriteCommand),
    spec('config|help', 2, ['loading', 'stale'], ['@slow'], server.configHelpCommand),
  ]),
  // Cluster (answered as "cluster support disabled" on a standalone node)
  container('cluster', -2, [], ['@slow'], [
    spec('cluster|slots', 2, ['stale'], ['@slow'], cluster.clusterSlotsCommand,
      { tips: ['nondeterministic_output'] }),
    spec('cluster|shards', 2, ['stale'], ['@slow'], cluster.clusterShardsCommand,
      { tips: ['nondeterministic_output'] }),
    spec('cluster|nodes', 2, ['stale'], ['@slow'], cluster.clusterNodesCommand,
      { tips: ['nondeterministic_output'] }),
    spec('cluster|info', 2, ['stale'], ['@slow'], cluster.clusterInfoCommand,
      { tips: ['nondeterministic_output'] }),
    spec('cluster|myid', 2, ['stale'], ['@slow'], cluster.clusterMyidCommand),
    spec('cluster|keyslot', 3, ['stale'], ['@slow'], cluster.clusterKeyslotCommand),
    spec('cluster|countkeysinslot', 3, ['stale'], ['@slow'],
      cluster.clusterCountkeysinslotCommand),
    spec('cluster|getkeysinslot', 4, ['stale'], ['@slow'], cluster.clusterGetkeysinslotCommand,
      { tips: ['nondeterministic_output'] }),
    spec('cluster|meet', -4, ['admin', 'stale', 'no_async_loading'], ADMIN_SLOW,
      cluster.clusterMeetCommand),
    spec('cluster|forget', 3, ['admin', 'stale', 'no_async_loading'], ADMIN_SLOW,
      cluster.clusterForgetCommand),
    spec('cluster|ring', 2, ['stale'], ['@slow'], cluster.clusterRingCommand),
    spec('cluster|preflist', 3, ['stale'], ['@slow'], cluster.clusterPreflistCommand),
    spec('cluster|repair', 2, ['admin', 'stale'], ADMIN_SLOW, cluster.clusterRepairCommand),
    spec('cluster|leave', 2, ['admin', 'stale', 'no_async_loading'], ADMIN_SLOW,
      cluster.clusterLeaveCommand),
    spec('cluster|help', 2, ['loading', 'stale'], ['@slow'], cluster.clusterHelpCommand),
  ]),
  spec('readonly', 1, ['loading', 'stale', 'fast'], CONNECTION_FAST, cluster.readonlyCommand),
  spec('readwrite', 1, ['loading', 'stale', 'fast'], CONNECTION_FAST, cluster.readonlyCommand),
  spec('asking', 1, ['fast'], CONNECTION_FAST, cluster.readonlyCommand),
  spec('consistency', -1, ['loading', 'stale', 'fast'], CONNECTION_FAST,
    cluster.consistencyCommand),
  container('command', -1, ['loading', 'stale'], CONNECTION_SLOW, [
    spec('command|count', 2, ['loading', 'stale'], CONNECTION_SLOW, command.countCommand),
    spec('command|info', -2, ['loading', 'stale'], CONNECTION_SLOW, command.infoCommand,
      { tips: ['nondeterministic_output_order'] }),
    spec('command|docs', -2, ['loading', 'stale'], CONNECTION_SLOW, command.docsCommand,
      { tips: ['nondeterministic_output_order'] }),
    spec('command|list', -2, ['loading', 'stale'], CONNECTION_SLOW, command.listCommand,
      { tips: ['nondeterministic_output_order'] }),
    spec('command|getkeys', -4, ['loading', 'stale'], CONNECTION_SLOW, command.getkeysCommand),
    spec('command|getkeysandflags', -4, ['loading', 'stale'], CONNECTION_SLOW,
      command.getkeysandflagsCommand),
    spec('command|help', 2, ['loading', 'stale'], CONNECTION_SLOW, command.helpCommand),
  ], command.commandCommand, ['nondeterministic_output_order']),
];

/** Names of up to this many letters are also found by a number made of their bytes. */
const PACKED_NAME_BYTES_MAX = 6;

/**
 * Lookup by the name as sent: exact lower- and upper-case names hit without allocation,
 * and short all-letter names (GET, SET, INCR, MGET, EXISTS...) are found from their bytes
 * without making a string at all (a string per request and its hash were about 2 % of a
 * GET -P 16 profile).
 */
export class CommandRegistry implements CommandTable {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly byPackedName = new Map<number, CommandSpec>();
  private readonly subcommandsByName = new Map<CommandSpec, Map<string, CommandSpec>>();

  constructor(private readonly commands: readonly CommandSpec[] = COMMANDS) {
    for (const entry of commands) {
      this.byName.set(entry.name, entry);
      this.byName.set(entry.name.toUpperCase(), entry);
      if (/^[a-z]+$/.test(entry.name) && entry.name.length <= PACKED_NAME_BYTES_MAX) {
        this.byPackedName.set(packedName(Buffer.from(entry.name, 'latin1')), entry);
      }
      if (entry.subcommands !== undefined) {
        const subs = new Map<string, CommandSpec>();
        for (const sub of entry.subcommands) subs.set(sub.name.split('|')[1] as string, sub);
        this.subcommandsByName.set(entry, subs);
      }
    }
  }

  lookup(name: string): CommandSpec | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  lookupBytes(name: Buffer): CommandSpec | undefined {
    if (name.length > 0 && name.length <= PACKED_NAME_BYTES_MAX) {
      const spec = this.byPackedName.get(packedName(name));
      if (spec !== undefined) return spec;
    }
    return this.lookup(name.latin1Slice());
  }

  lookupSubcommand(container: CommandSpec, name: string): CommandSpec | undefined {
    return this.subcommandsByName.get(container)?.get(name.toLowerCase());
  }

  all(): readonly CommandSpec[] {
    return this.commands;
  }
}

/**
 * A name of at most PACKED_NAME_BYTES_MAX letters as one small integer (a Smi to V8): each
 * letter, either case, as 1-26 in base 32, so no two names share a number. -1 when a byte
 * is not a letter (such names take the string path).
 */
function packedName(name: Buffer): number {
  let packed = 0;
  for (let index = 0; index < name.length; index++) {
    const letter = ((name[index] as number) | 0x20) - 0x60;
    if (letter < 1 || letter > 26) return -1;
    packed = packed * 32 + letter;
  }
  return packed;
}
