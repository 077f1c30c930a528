/**
 * COMMAND and its subcommands, generated from the command table (commands/table.ts) and
 * the documentation table (commands/docs.ts), in Redis 7's reply shapes.
 */
import { errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../util/glob.js';
import { writeHelp } from './connection.js';
import type { Client, CommandSpec } from './spec.js';

function writeInfo(out: ReplyWriter, spec: CommandSpec): void {
  out.arrayHeader(10);
  out.bulkString(spec.name);
  out.integer(spec.arity);
  out.setHeader(spec.flags.length);
  for (const flag of spec.flags) out.simple(flag);
  out.integer(spec.keys.first);
  out.integer(spec.keys.last);
  out.integer(spec.keys.step);
  out.setHeader(spec.aclCategories.length);
  for (const category of spec.aclCategories) out.simple(category);
  out.setHeader(spec.tips.length);
  for (const tip of spec.tips) out.bulkString(tip);
  out.arrayHeader(0);
  const subcommands = spec.subcommands ?? [];
  out.arrayHeader(subcommands.length);
  for (const sub of subcommands) writeInfo(out, sub);
}

export function commandCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const all = client.server.commands.all();
  out.arrayHeader(all.length);
  for (const spec of all) writeInfo(out, spec);
}

export function countCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  out.integer(client.server.commands.all().length);
}

/** A command or "container|sub" by name, as COMMAND INFO / DOCS accept them. */
function find(client: Client, name: string): CommandSpec | undefined {
  const commands = client.server.commands;
  const [containerName, subName] = name.split('|');
  const top = commands.lookup(containerName as string);
  if (subName === undefined || top === undefined) return top;
  return commands.lookupSubcommand(top, subName);
}

export function infoCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  if (args.length === 2) return commandCommand(client, args, out);
  out.arrayHeader(args.length - 2);
  for (let index = 2; index < args.length; index++) {
    const spec = find(client, (args[index] as Buffer).toString());
    if (spec === undefined) out.nilArray();
    else writeInfo(out, spec);
  }
}

export function docsCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const specs = args.length === 2
    ? [...client.server.commands.all()]
    : args.slice(2).map((arg) => find(client, arg.toString()))
      .filter((spec): spec is CommandSpec => spec !== undefined);
  out.mapHeader(specs.length);
  for (const spec of specs) {
    out.bulkString(spec.name);
    out.mapHeader(0);
  }
}

export function listCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  let names: string[] = [];
  for (const spec of client.server.commands.all()) {
    names.push(spec.name);
    for (const sub of spec.subcommands ?? []) names.push(sub.name);
  }
  if (args.length > 2) {
    if (args.length !== 5 || (args[2] as Buffer).latin1Slice().toLowerCase() !== 'filterby') {
      out.error(errors.syntax);
      return;
    }
    const kind = (args[3] as Buffer).latin1Slice().toLowerCase();
    const value = args[4] as Buffer;
    if (kind === 'module') {
      names = [];
    } else if (kind === 'aclcat') {
      const category = `@${value.toString().toLowerCase()}`;
      names = names.filter((name) => find(client, name)?.aclCategories.includes(category));
    } else if (kind === 'pattern') {
      names = names.filter((name) => globMatch(value, Buffer.from(name), true));
    } else {
      out.error(errors.syntax);
      return;
    }
  }
  out.arrayHeader(names.length);
  for (const name of names) out.bulkString(name);
}

function keysOf(client: Client, args: Buffer[], out: ReplyWriter): Buffer[] | null {
  const target = args.slice(2);
  let spec = client.server.commands.lookup((target[0] as Buffer).toString());
  if (spec !== undefined && spec.subcommands !== undefined && target.length >= 2) {
    spec = client.server.commands.lookupSubcommand(spec, (target[1] as Buffer).toString()) ??
      spec;
  }
  if (spec === undefined) {
    out.error('ERR Invalid command specified');
    return null;
  }
  const arity = spec.arity;
  if ((arity > 0 && target.length !== arity) || target.length < -arity) {
    out.error('ERR Invalid number of arguments specified for command');
    return null;
  }
  const { first, last, step } = spec.keys;
  if (first === 0) {
    out.error('ERR The command has no key arguments');
    return null;
  }
  const end = last < 0 ? target.length + last : last;
  const keys: Buffer[] = [];
  for (let index = first; index <= end && index < target.length; index += step) {
    keys.push(target[index] as Buffer);
  }
  return keys;
}

export function getkeysCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const keys = keysOf(client, args, out);
  if (keys === null) return;
  out.arrayHeader(keys.length);
  for (const key of keys) out.bulk(key);
}

export function getkeysandflagsCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const keys = keysOf(client, args, out);
  if (keys === null) return;
  out.arrayHeader(keys.length);
  for (const key of keys) {
    out.arrayHeader(2);
    out.bulk(key);
    out.setHeader(0);
  }
}

export function helpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, [
    'COMMAND <subcommand> [<arg> ...]. RingKV answers these subcommands:',
    '(no subcommand)',
    '    Details of every command.',
    'COUNT',
    '    How many commands there are.',
    'INFO [<command-name> ...]',
    '    Details of the named commands (all when none are named).',
    'DOCS [<command-name> ...]',
    '    Documentation of the named commands (all when none are named).',
    'LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <glob>)]',
    '    Names of the commands, optionally filtered.',
    'GETKEYS <full-command>',
    '    The keys a full command line names.',
    'GETKEYSANDFLAGS <full-command>',
    '    The keys a full command line names, with their flags.',
    'HELP',
    '    This text.',
  ]);
}
