/**
 * Server commands: INFO, TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN, SLOWLOG and CONFIG
 * (Redis 7 semantics). SAVE and BGSAVE are honest durability points: they return once
 * (SAVE) or start making (BGSAVE) everything written so far durable on disk.
 */
import { errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { writeHelp } from './connection.js';
import { parseInt64 } from './numbers.js';
import type { Client } from './spec.js';

export function infoCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const sections = args.slice(1).map((arg) => arg.toString().toLowerCase());
  out.verbatim(client.server.info.render(sections));
}

export function timeCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const micros = client.server.clock.nowMicros();
  out.arrayHeader(2);
  out.bulkString(String(micros / 1_000_000n));
  out.bulkString(String(micros % 1_000_000n));
}

export function lastsaveCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.integer(client.server.persistence.lastSaveUnixSeconds);
}

const SAVE_IN_PROGRESS = 'ERR Background save already in progress';

export function saveCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const persistence = client.server.persistence;
  if (persistence.bgsaveInProgress) {
    out.error(SAVE_IN_PROGRESS);
    return;
  }
  out.ok();
  const token = client.hold();
  persistence.save((error) => {
    client.durable(token, error);
  });
}

export function bgsaveCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let schedule = false;
  if (args.length > 1) {
    if (args.length === 2 && (args[1] as Buffer).latin1Slice().toLowerCase() === 'schedule') {
      schedule = true;
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  const persistence = client.server.persistence;
  if (persistence.bgsaveInProgress) {
    if (schedule) out.simple('Background saving scheduled');
    else out.error(SAVE_IN_PROGRESS);
    return;
  }
  persistence.save(() => undefined);
  out.simple('Background saving started');
}

export function shutdownCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let save = false;
  let noSave = false;
  let abort = false;
  let other = false;
  for (let index = 1; index < args.length; index++) {
    const option = (args[index] as Buffer).latin1Slice().toLowerCase();
    if (option === 'nosave') noSave = true;
    else if (option === 'save') save = true;
    else if (option === 'now' || option === 'force') other = true;
    else if (option === 'abort') abort = true;
    else {
      out.error(errors.syntax);
      return;
    }
  }
  if ((abort && (save || noSave || other)) || (save && noSave)) {
    out.error(errors.syntax);
    return;
  }
  if (abort) {
    out.error('ERR No shutdown in progress.');
    return;
  }
  // Every acknowledged write is already committed; shutdown flushes and exits either way.
  client.server.persistence.shutdown(`SHUTDOWN from client ${client.id}`);
}

// SLOWLOG -----------------------------------------------------------------------------------

export function slowlogGetCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let count = 10;
  if (args.length === 3) {
    const parsed = parseInt64(args[2] as Buffer);
    if (parsed === null || parsed < -1) {
      out.error('ERR count should be greater than or equal to -1');
      return;
    }
    count = parsed === -1 ? Number.MAX_SAFE_INTEGER : Number(parsed);
  } else if (args.length > 3) {
    out.error(errors.subcommandSyntax(args[0] as Buffer, args[1] as Buffer));
    return;
  }
  const entries = client.server.slowlog.entries(count);
  out.arrayHeader(entries.length);
  for (const entry of entries) {
    out.arrayHeader(6);
    out.integer(entry.id);
    out.integer(entry.unixSeconds);
    out.integer(entry.durationUs);
    out.arrayHeader(entry.args.length);
    for (const arg of entry.args) out.bulk(arg);
    out.bulkString(entry.peer);
    out.bulkString(entry.clientName);
  }
}

export function slowlogLenCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.integer(client.server.slowlog.length);
}

export function slowlogResetCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  client.server.slowlog.reset();
  out.ok();
}

export function slowlogHelpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, [
    'SLOWLOG <subcommand> [<arg> ...]. RingKV answers these subcommands:',
    'GET [<count>]',
    '    The newest <count> entries (default 10, -1 for all): id, time, microseconds,',
    '    arguments, client address and client name.',
    'LEN',
    '    How many entries the slow log holds.',
    'RESET',
    '    Empties the slow log.',
    'HELP',
    '    This text.',
  ]);
}

// CONFIG ------------------------------------------------------------------------------------

export function configGetCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const pairs = client.server.config.get(args.slice(2));
  out.mapHeader(pairs.length);
  for (const [name, value] of pairs) {
    out.bulkString(name);
    out.bulkString(value);
  }
}

export function configSetCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  // An odd count of name/value arguments passes the arity check; Redis calls it a syntax error.
  if (args.length % 2 !== 0) {
    out.error(errors.syntax);
    return;
  }
  const pairs: Array<[string, string]> = [];
  for (let index = 2; index < args.length; index += 2) {
    pairs.push([(args[index] as Buffer).toString('latin1'),
      (args[index + 1] as Buffer).toString()]);
  }
  const error = client.server.config.set(pairs);
  if (error === null) out.ok();
  else out.error(error);
}

export function configResetstatCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  client.server.stats.reset();
  out.ok();
}

export function configRewriteCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const error = client.server.config.rewrite();
  if (error === null) out.ok();
  else out.error(error);
}

export function configHelpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, [
    'CONFIG <subcommand> [<arg> ...]. RingKV answers these subcommands:',
    'GET <pattern> [<pattern> ...]',
    '    Name and value of every setting matching a glob pattern.',
    'SET <name> <value> [<name> <value> ...]',
    '    Changes settings at run time, all or none.',
    'RESETSTAT',
    '    Zeroes the statistics INFO reports.',
    'REWRITE',
    '    Writes the current settings back to the config file.',
    'HELP',
    '    This text.',
  ]);
}
