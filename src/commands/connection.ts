/**
 * Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and the CLIENT family
 * (Redis 7 semantics; CLIENT SETINFO and NO-TOUCH as in 7.2, which clients send).
 */
import { DATABASES_COUNT } from '../config/limits.js';
import { cString, errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { parseInt32, parseInt64, parseSafeInteger } from './numbers.js';
import type { Client } from './spec.js';

export function pingCommand(_client: Client, args: Buffer[], out: ReplyWriter): void {
  if (args.length > 2) {
    out.error(errors.wrongArity('ping'));
  } else if (args.length === 2) {
    out.bulk(args[1] as Buffer);
  } else {
    out.pong();
  }
}

export function echoCommand(_client: Client, args: Buffer[], out: ReplyWriter): void {
  out.bulk(args[1] as Buffer);
}

const INVALID_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

/** Client names and library attributes: printable ASCII without spaces ('!' to '~'). */
function isValidAttribute(value: Buffer): boolean {
  for (const byte of value) if (byte < 33 || byte > 126) return false;
  return true;
}

/**
 * HELLO as Redis 7.0 runs it: the version first, then each option in order, acting at once
 * (AUTH authenticates and SETNAME names the client even when a later option fails), then
 * the authentication check, then the protocol switch and the reply.
 */
export function helloCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let version = 0;
  if (args.length >= 2) {
    const parsed = parseInt64(args[1] as Buffer);
    if (parsed === null) {
      out.error('ERR Protocol version is not an integer or out of range');
      return;
    }
    if (parsed < 2 || parsed > 3) {
      out.error('NOPROTO unsupported protocol version');
      return;
    }
    version = Number(parsed);
  }
  if (!applyHelloOptions(client, args, out)) return;
  if (!client.authenticated) {
    out.error('NOAUTH HELLO must be called with the client already authenticated, otherwise ' +
      'the HELLO AUTH <user> <pass> option can be used to authenticate the client and ' +
      'select the RESP protocol version at the same time');
    return;
  }
  if (version !== 0) client.protocol = version as 2 | 3;
  writeHello(client, out);
}

/** Runs HELLO's AUTH and SETNAME options in order; false once one failed (and replied). */
function applyHelloOptions(client: Client, args: Buffer[], out: ReplyWriter): boolean {
  for (let index = 2; index < args.length; index++) {
    const more = args.length - 1 - index;
    const option = (args[index] as Buffer).latin1Slice().toUpperCase();
    if (option === 'AUTH' && more >= 2) {
      const user = (args[index + 1] as Buffer).latin1Slice();
      if (!client.server.auth.authenticate(user, args[index + 2] as Buffer)) {
        out.error(errors.wrongPass);
        return false;
      }
      client.setAuthenticated(true, user);
      index += 2;
    } else if (option === 'SETNAME' && more >= 1) {
      const name = args[index + 1] as Buffer;
      if (!isValidAttribute(name)) {
        out.error(INVALID_NAME);
        return false;
      }
      client.name = name.toString();
      index++;
    } else {
      out.error(`ERR Syntax error in HELLO option '${cString(args[index] as Buffer)}'`);
      return false;
    }
  }
  return true;
}

function writeHello(client: Client, out: ReplyWriter): void {
  const identity = client.server.identity;
  out.mapHeader(7);
  out.bulkString('server');
  out.bulkString('redis');
  out.bulkString('version');
  out.bulkString(identity.redisVersion);
  out.bulkString('proto');
  out.integer(client.protocol);
  out.bulkString('id');
  out.integer(client.id);
  out.bulkString('mode');
  out.bulkString(identity.mode);
  out.bulkString('role');
  out.bulkString('master');
  out.bulkString('modules');
  out.arrayHeader(0);
}

export function authCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  if (args.length > 3) {
    out.error(errors.syntax);
    return;
  }
  const auth = client.server.auth;
  let user = 'default';
  let password = args[1] as Buffer;
  if (args.length === 2) {
    // Redis's test: the default user has nopass (even when it is off).
    if (auth.defaultUserNoPass) {
      out.error('ERR AUTH <password> called without any password configured for the default ' +
        'user. Are you sure your configuration is correct?');
      return;
    }
  } else {
    user = (args[1] as Buffer).latin1Slice();
    password = args[2] as Buffer;
  }
  if (auth.authenticate(user, password)) {
    client.setAuthenticated(true, user);
    out.ok();
  } else {
    out.error(errors.wrongPass);
  }
}

export function selectCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const db = parseInt32(args[1] as Buffer);
  if (typeof db === 'string') {
    out.error(db);
    return;
  }
  if (db < 0 || db >= DATABASES_COUNT) {
    out.error(errors.dbIndexOutOfRange);
    return;
  }
  client.db = db;
  out.ok();
}

export function quitCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.ok();
  client.closeAfterReply();
}

export function resetCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  client.resetState();
  out.simple('RESET');
}

// CLIENT ------------------------------------------------------------------------------------

export function clientIdCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.integer(client.id);
}

export function clientSetnameCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const name = args[2] as Buffer;
  if (!isValidAttribute(name)) {
    out.error(INVALID_NAME);
    return;
  }
  client.name = name.toString();
  out.ok();
}

export function clientGetnameCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  if (client.name === '') out.nil();
  else out.bulkString(client.name);
}

export function clientSetinfoCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const attribute = (args[2] as Buffer).toString('latin1');
  const value = args[3] as Buffer;
  const lower = attribute.toLowerCase();
  if (lower !== 'lib-name' && lower !== 'lib-ver') {
    out.error(`ERR Unrecognized option '${attribute}'`);
    return;
  }
  if (!isValidAttribute(value)) {
    out.error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
    return;
  }
  if (lower === 'lib-name') client.libName = value.toString();
  else client.libVersion = value.toString();
  out.ok();
}

export function clientInfoCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.verbatim(`${client.describe()}\n`);
}

export function clientListCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let clients = client.server.clients.all();
  if (args.length > 2) {
    const option = (args[2] as Buffer).latin1Slice().toLowerCase();
    if (option === 'type' && args.length === 4) {
      const type = (args[3] as Buffer).latin1Slice().toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) {
        out.error(`ERR Unknown client type '${(args[3] as Buffer).toString('latin1')}'`);
        return;
      }
      if (type !== 'normal') clients = [];
    } else if (option === 'id' && args.length >= 4) {
      const ids: number[] = [];
      for (let index = 3; index < args.length; index++) {
        // Any 64-bit integer is accepted; ids that name no client simply match nothing.
        const id = parseInt64(args[index] as Buffer);
        if (id === null) {
          out.error('ERR Invalid client ID');
          return;
        }
        ids.push(Number(id));
      }
      clients = clients.filter((candidate) => ids.includes(candidate.id));
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  out.verbatim(clients.map((candidate) => `${candidate.describe()}\n`).join(''));
}

interface KillFilter {
  id: number | null;
  addr: string | null;
  laddr: string | null;
  user: string | null;
  type: string | null;
  maxAgeSeconds: number | null;
  skipMe: boolean;
}

export function clientKillCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const registry = client.server.clients;
  if (args.length === 3) {
    // Old form: CLIENT KILL addr:port, replying OK or an error.
    const address = (args[2] as Buffer).toString();
    const target = registry.all().find((candidate) => candidate.remoteAddress === address);
    if (target === undefined) {
      out.error('ERR No such client');
      return;
    }
    out.ok();
    killClient(client, target);
    return;
  }
  const filter = parseKillFilter(client, args, out);
  if (filter === null) return;
  const nowMs = client.server.clock.nowMs();
  const targets = registry.all().filter((candidate) =>
    (filter.id === null || candidate.id === filter.id) &&
    (filter.addr === null || candidate.remoteAddress === filter.addr) &&
    (filter.laddr === null || candidate.localAddress === filter.laddr) &&
    (filter.user === null || candidate.user === filter.user) &&
    (filter.type === null || filter.type === 'normal') &&
    (filter.maxAgeSeconds === null ||
      (nowMs - candidate.createdMs) / 1000 > filter.maxAgeSeconds) &&
    !(filter.skipMe && candidate === client));
  out.integer(targets.length);
  for (const target of targets) killClient(client, target);
}

function killClient(self: Client, target: Client): void {
  if (target === self) self.closeAfterReply();
  else self.server.clients.kill(target);
}

function parseKillFilter(client: Client, args: Buffer[], out: ReplyWriter): KillFilter | null {
  const filter: KillFilter = {
    id: null, addr: null, laddr: null, user: null, type: null, maxAgeSeconds: null, skipMe: true,
  };
  for (let index = 2; index < args.length; index += 2) {
    if (index + 1 >= args.length) {
      out.error(errors.syntax);
      return null;
    }
    const option = (args[index] as Buffer).latin1Slice().toLowerCase();
    const value = args[index + 1] as Buffer;
    const text = value.toString('latin1');
    if (option === 'id') {
      const id = parseSafeInteger(value);
      if (id === null || id <= 0) {
        out.error('ERR client-id should be greater than 0');
        return null;
      }
      filter.id = id;
    } else if (option === 'type') {
      const type = text.toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) {
        out.error(`ERR Unknown client type '${text}'`);
        return null;
      }
      filter.type = type;
    } else if (option === 'addr') {
      filter.addr = text;
    } else if (option === 'laddr') {
      filter.laddr = text;
    } else if (option === 'user') {
      if (client.server.auth.describe(text) === null) {
        out.error(`ERR No such user '${cString(value)}'`);
        return null;
      }
      filter.user = text;
    } else if (option === 'skipme') {
      const answer = text.toLowerCase();
      if (answer !== 'yes' && answer !== 'no') {
        out.error(errors.syntax);
        return null;
      }
      filter.skipMe = answer === 'yes';
    } else if (option === 'maxage') {
      const age = parseSafeInteger(value);
      if (age === null) {
        out.error(errors.notInteger);
        return null;
      }
      filter.maxAgeSeconds = age;
    } else {
      out.error(errors.syntax);
      return null;
    }
  }
  return filter;
}

function onOff(args: Buffer[], out: ReplyWriter): boolean | null {
  const value = (args[2] as Buffer).latin1Slice().toLowerCase();
  if (value === 'on') return true;
  if (value === 'off') return false;
  out.error(errors.syntax);
  return null;
}

export function clientNoEvictCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const value = onOff(args, out);
  if (value === null) return;
  client.noEvict = value;
  out.ok();
}

export function clientNoTouchCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const value = onOff(args, out);
  if (value === null) return;
  client.noTouch = value;
  out.ok();
}

export function clientReplyCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const mode = (args[2] as Buffer).latin1Slice().toLowerCase();
  if (mode === 'on') {
    client.replyMode = 'on';
    // `out` was chosen while replies were off: Redis clears the flag first, then replies.
    client.writer.ok();
  } else if (mode === 'off') {
    client.replyMode = 'off';
  } else if (mode === 'skip') {
    if (client.replyMode === 'on') client.replyMode = 'skip';
  } else {
    out.error(errors.syntax);
  }
}

const CLIENT_HELP = [
  'CLIENT <subcommand> [<arg> ...]. RingKV answers these subcommands:',
  'ID',
  '    The numeric id of this connection.',
  'GETNAME',
  '    The name set with SETNAME, or nil.',
  'SETNAME <name>',
  '    Names this connection (printable characters, no spaces).',
  'SETINFO (LIB-NAME|LIB-VER) <value>',
  '    Records the client library name or version shown by CLIENT LIST.',
  'INFO',
  '    One line describing this connection.',
  'LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]',
  '    One line per connection to this node.',
  'KILL <ip:port>',
  '    Closes the connection from that address.',
  'KILL <filter> <value> [<filter> <value> ...]',
  '    Closes every matching connection and returns how many. Filters:',
  '    ID <id>, ADDR <ip:port>, LADDR <ip:port>, USER <name>, TYPE <type>,',
  '    MAXAGE <seconds>, SKIPME (YES|NO) (default YES: never this connection).',
  'NO-EVICT (ON|OFF)',
  '    Accepted for compatibility; RingKV never evicts clients.',
  'NO-TOUCH (ON|OFF)',
  '    Accepted for compatibility; RingKV keeps no access statistics per key.',
  'REPLY (ON|OFF|SKIP)',
  '    ON sends replies, OFF drops them, SKIP drops the next command\'s reply.',
  'HELP',
  '    This text.',
];

export function clientHelpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, CLIENT_HELP);
}

/** Help text as Redis sends it: an array of simple strings. */
export function writeHelp(out: ReplyWriter, lines: readonly string[]): void {
  out.arrayHeader(lines.length);
  for (const line of lines) out.simple(line);
}
