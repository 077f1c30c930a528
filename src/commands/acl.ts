/**
 * ACL WHOAMI, USERS, LIST, GETUSER, CAT, SETUSER, DELUSER and HELP, with Redis 7.0's reply
 * shapes and errors. The users themselves live behind ServerContext.auth.
 */
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { writeHelp } from './connection.js';
import type { Client, CommandSpec } from './spec.js';

/** Redis 7.0's ACL categories, in the order ACL CAT lists them. */
export const ACL_CATEGORIES: readonly string[] = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap',
  'hyperloglog', 'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous',
  'connection', 'transaction', 'scripting',
];

/** A name as the user sent it: one character per byte, like every user name we keep. */
function nameOf(arg: Buffer): string {
  return arg.latin1Slice();
}

export function aclWhoamiCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.bulk(Buffer.from(client.user, 'latin1'));
}

export function aclUsersCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const names = client.server.auth.userNames();
  out.arrayHeader(names.length);
  for (const name of names) out.bulk(Buffer.from(name, 'latin1'));
}

export function aclListCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const auth = client.server.auth;
  const names = auth.userNames();
  out.arrayHeader(names.length);
  for (const name of names) {
    out.bulk(Buffer.from(`user ${name} ${auth.describe(name) ?? ''}`, 'latin1'));
  }
}

export function aclGetuserCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const details = client.server.auth.details(nameOf(args[2] as Buffer));
  if (details === null) {
    out.nil();
    return;
  }
  out.mapHeader(6);
  out.bulkString('flags');
  out.setHeader(details.flags.length);
  for (const flag of details.flags) out.bulkString(flag);
  out.bulkString('passwords');
  out.arrayHeader(details.passwords.length);
  for (const password of details.passwords) out.bulkString(password);
  for (const [field, value] of [['commands', details.commands], ['keys', details.keys],
    ['channels', details.channels]] as const) {
    out.bulkString(field);
    out.bulk(Buffer.from(value, 'latin1'));
  }
  // Selectors are not implemented: always none.
  out.bulkString('selectors');
  out.arrayHeader(0);
}

export function aclCatCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  if (args.length > 3) {
    out.error(`ERR unknown subcommand or wrong number of arguments for ` +
      `'${(args[1] as Buffer).latin1Slice()}'. Try ACL HELP.`);
    return;
  }
  if (args.length === 2) {
    out.arrayHeader(ACL_CATEGORIES.length);
    for (const category of ACL_CATEGORIES) out.bulkString(category);
    return;
  }
  const category = (args[2] as Buffer).latin1Slice().toLowerCase();
  if (!ACL_CATEGORIES.includes(category)) {
    out.error(`ERR Unknown category '${(args[2] as Buffer).latin1Slice()}'`);
    return;
  }
  const names = commandsIn(client.server.commands.all(), `@${category}`);
  out.arrayHeader(names.length);
  for (const name of names) out.bulkString(name);
}

/** Commands and subcommands whose own categories include `tag`, by full name. */
function commandsIn(commands: readonly CommandSpec[], tag: string): string[] {
  const names: string[] = [];
  for (const spec of commands) {
    if (spec.aclCategories.includes(tag)) names.push(spec.name);
    for (const sub of spec.subcommands ?? []) {
      if (sub.aclCategories.includes(tag)) names.push(sub.name);
    }
  }
  return names;
}

const REDACTED = Buffer.from('(redacted)');

/**
 * ACL SETUSER. Its arguments hold passwords: as Redis does, they are replaced in the
 * request itself once used, so the slow log (which records the request after the handler)
 * shows "(redacted)" from the user name on.
 */
export function aclSetuserCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const error = client.server.auth.setUser(nameOf(args[2] as Buffer), args.slice(3));
  for (let index = 2; index < args.length; index++) args[index] = REDACTED;
  if (error === null) out.ok();
  else out.error(error);
}

/**
 * ACL DELUSER: refuses the whole call when it names the default user; closes the
 * connections of each removed user (this one after the reply), as Redis does.
 */
export function aclDeluserCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const names = args.slice(2).map(nameOf);
  if (names.includes('default')) {
    out.error("ERR The 'default' user cannot be removed");
    return;
  }
  const server = client.server;
  let removed = 0;
  for (const name of names) {
    if (!server.auth.deleteUser(name)) continue;
    removed++;
    for (const other of server.clients.all()) {
      if (other.user !== name) continue;
      if (other === client) client.closeAfterReply();
      else server.clients.kill(other);
    }
  }
  out.integer(removed);
}

const ACL_HELP = [
  'ACL <subcommand> [<arg> ...]. RingKV answers these subcommands:',
  'CAT [<category>]',
  '    The ACL categories, or the commands of one category.',
  'DELUSER <username> [<username> ...]',
  '    Removes users and closes their connections; returns how many existed.',
  'GETUSER <username>',
  '    The flags, password hashes, commands, keys and channels of a user.',
  'LIST',
  '    Every user as a config file line (user <name> <rules>).',
  'SETUSER <username> [<rule> ...]',
  '    Creates a user or changes its rules (on, off, >pass, ~pattern, +@category, ...).',
  '    Use CONFIG REWRITE to keep the users in the config file.',
  'USERS',
  '    The names of the users.',
  'WHOAMI',
  '    The user this connection runs as.',
  'HELP',
  '    This text.',
];

export function aclHelpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, ACL_HELP);
}
