/**
 * COMMAND and its subcommands, generated from the command table (commands/table.ts) and
 * the documentation table (commands/docs.ts), in Redis 7.0's reply shapes: go-redis routes
 * by COMMAND, redis-cli builds its hints from COMMAND DOCS, cluster proxies use GETKEYS.
 */
import { errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { globMatch } from '../util/glob.js';
import { writeHelp } from './connection.js';
import {
  KEY_SPEC_FLAG_ORDER,
  docsOf,
  type ArgumentDoc,
  type CommandDocs,
  type KeySpec,
  type KeySpecFlag,
} from './docs.js';
import type { Client, CommandSpec, KeyPositions } from './spec.js';

/** A command missing from docs.ts (a test prevents it) is still reported, with no prose. */
const UNDOCUMENTED: CommandDocs = { summary: '', since: '', group: 'server', complexity: '' };

// --- COMMAND / COMMAND INFO ----------------------------------------------------------------

/** Key specs of a command; a command without docs gets one derived from its legacy range. */
function keySpecsOf(spec: CommandSpec): readonly KeySpec[] {
  const docs = docsOf(spec.name);
  if (docs !== undefined) return docs.keySpecs ?? [];
  return legacyKeySpecs(spec.keys);
}

function legacyKeySpecs(keys: KeyPositions): readonly KeySpec[] {
  if (keys.first === 0) return [];
  const lastKey = keys.last < 0 ? keys.last : keys.last - keys.first;
  return [{ flags: [], index: keys.first, lastKey, keyStep: keys.step, limit: 0 }];
}

function writeKeyFlags(out: ReplyWriter, flags: readonly KeySpecFlag[]): void {
  // Redis prints key flags in a fixed order, whatever order a spec lists them in.
  const ordered = KEY_SPEC_FLAG_ORDER.filter((flag) => flags.includes(flag));
  out.setHeader(ordered.length);
  for (const flag of ordered) out.simple(flag);
}

function writeKeySpec(out: ReplyWriter, keySpec: KeySpec): void {
  out.mapHeader(keySpec.notes === undefined ? 3 : 4);
  if (keySpec.notes !== undefined) {
    out.bulkString('notes');
    out.bulkString(keySpec.notes);
  }
  out.bulkString('flags');
  writeKeyFlags(out, keySpec.flags);
  out.bulkString('begin_search');
  out.mapHeader(2);
  out.bulkString('type');
  out.bulkString('index');
  out.bulkString('spec');
  out.mapHeader(1);
  out.bulkString('index');
  out.integer(keySpec.index);
  out.bulkString('find_keys');
  out.mapHeader(2);
  out.bulkString('type');
  out.bulkString('range');
  out.bulkString('spec');
  out.mapHeader(3);
  out.bulkString('lastkey');
  out.integer(keySpec.lastKey);
  out.bulkString('keystep');
  out.integer(keySpec.keyStep);
  out.bulkString('limit');
  out.integer(keySpec.limit);
}

/** One COMMAND INFO entry: the 10 fields of Redis 7 (go-redis reads the first six). */
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
  const keySpecs = keySpecsOf(spec);
  out.setHeader(keySpecs.length);
  for (const keySpec of keySpecs) writeKeySpec(out, keySpec);
  // Redis: an empty set without subcommands, an array of entries with them.
  if (spec.subcommands === undefined) {
    out.setHeader(0);
    return;
  }
  out.arrayHeader(spec.subcommands.length);
  for (const sub of spec.subcommands) writeInfo(out, sub);
}

export function commandCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  // Dispatch hands us "COMMAND <unknown>" because the container has a handler of its own.
  if (args.length > 1) {
    out.error(errors.unknownSubcommand(args[1] as Buffer, 'command'));
    return;
  }
  writeAllInfo(client, out);
}

function writeAllInfo(client: Client, out: ReplyWriter): void {
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
  const parts = name.split('|');
  if (parts.length > 2) return undefined;
  const top = commands.lookup(parts[0] as string);
  if (parts.length === 1 || top === undefined) return top;
  return commands.lookupSubcommand(top, parts[1] as string);
}

export function infoCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  if (args.length === 2) return writeAllInfo(client, out);
  out.arrayHeader(args.length - 2);
  for (let index = 2; index < args.length; index++) {
    const spec = find(client, (args[index] as Buffer).toString());
    if (spec === undefined) out.nil();
    else writeInfo(out, spec);
  }
}

// --- COMMAND DOCS ---------------------------------------------------------------------------

function writeArgument(out: ReplyWriter, argument: ArgumentDoc): void {
  const flags = argument.flags ?? [];
  out.mapHeader(2 + Number(argument.keySpecIndex !== undefined) +
    Number(argument.token !== undefined) + Number(argument.since !== undefined) +
    Number(argument.deprecatedSince !== undefined) + Number(flags.length > 0) +
    Number(argument.arguments !== undefined));
  out.bulkString('name');
  out.bulkString(argument.name);
  out.bulkString('type');
  out.bulkString(argument.type);
  if (argument.keySpecIndex !== undefined) {
    out.bulkString('key_spec_index');
    out.integer(argument.keySpecIndex);
  }
  writeOptionalString(out, 'token', argument.token);
  writeOptionalString(out, 'since', argument.since);
  writeOptionalString(out, 'deprecated_since', argument.deprecatedSince);
  if (flags.length > 0) {
    out.bulkString('flags');
    out.setHeader(flags.length);
    for (const flag of flags) out.simple(flag);
  }
  if (argument.arguments !== undefined) writeArguments(out, argument.arguments);
}

function writeArguments(out: ReplyWriter, list: readonly ArgumentDoc[]): void {
  out.bulkString('arguments');
  out.arrayHeader(list.length);
  for (const argument of list) writeArgument(out, argument);
}

function writeOptionalString(out: ReplyWriter, field: string, value: string | undefined): void {
  if (value === undefined || value === '') return;
  out.bulkString(field);
  out.bulkString(value);
}

/** How many fields writeDocs writes: Redis leaves out the empty ones. */
function docsFieldCount(docs: CommandDocs, spec: CommandSpec): number {
  const present = [docs.summary !== '', docs.since !== '', true, docs.complexity !== '',
    (docs.docFlags ?? []).length > 0, docs.deprecatedSince !== undefined,
    docs.replacedBy !== undefined, (docs.history ?? []).length > 0,
    (docs.arguments ?? []).length > 0, spec.subcommands !== undefined];
  return present.filter(Boolean).length;
}

/** One COMMAND DOCS value, fields in Redis 7.0's order. */
function writeDocs(out: ReplyWriter, spec: CommandSpec): void {
  const docs = docsOf(spec.name) ?? UNDOCUMENTED;
  out.mapHeader(docsFieldCount(docs, spec));
  writeOptionalString(out, 'summary', docs.summary);
  writeOptionalString(out, 'since', docs.since);
  out.bulkString('group');
  out.bulkString(docs.group);
  writeOptionalString(out, 'complexity', docs.complexity);
  const docFlags = docs.docFlags ?? [];
  if (docFlags.length > 0) {
    out.bulkString('doc_flags');
    out.setHeader(docFlags.length);
    for (const flag of docFlags) out.simple(flag);
  }
  writeOptionalString(out, 'deprecated_since', docs.deprecatedSince);
  writeOptionalString(out, 'replaced_by', docs.replacedBy);
  const history = docs.history ?? [];
  if (history.length > 0) {
    out.bulkString('history');
    out.setHeader(history.length);
    for (const [version, change] of history) {
      out.arrayHeader(2);
      out.bulkString(version);
      out.bulkString(change);
    }
  }
  if ((docs.arguments ?? []).length > 0) writeArguments(out, docs.arguments ?? []);
  if (spec.subcommands !== undefined) {
    out.bulkString('subcommands');
    out.mapHeader(spec.subcommands.length);
    for (const sub of spec.subcommands) {
      out.bulkString(sub.name);
      writeDocs(out, sub);
    }
  }
}

export function docsCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  // Unknown names are left out of the map, as Redis does.
  const specs = args.length === 2
    ? [...client.server.commands.all()]
    : args.slice(2).map((arg) => find(client, arg.toString()))
      .filter((spec): spec is CommandSpec => spec !== undefined);
  out.mapHeader(specs.length);
  for (const spec of specs) {
    out.bulkString(spec.name);
    writeDocs(out, spec);
  }
}

// --- COMMAND LIST ---------------------------------------------------------------------------

/** Every command and subcommand, containers before their subcommands. */
function everySpec(client: Client): CommandSpec[] {
  const specs: CommandSpec[] = [];
  for (const spec of client.server.commands.all()) {
    specs.push(spec);
    for (const sub of spec.subcommands ?? []) specs.push(sub);
  }
  return specs;
}

/** The FILTERBY predicate, or null when the filter is malformed (a syntax error). */
function listFilter(args: Buffer[]): ((spec: CommandSpec) => boolean) | null {
  if (args.length === 2) return () => true;
  if (args.length !== 5 || (args[2] as Buffer).latin1Slice().toLowerCase() !== 'filterby') {
    return null;
  }
  const kind = (args[3] as Buffer).latin1Slice().toLowerCase();
  const value = args[4] as Buffer;
  switch (kind) {
    case 'module':
      return () => false; // no module commands here
    case 'aclcat': {
      // An unknown category matches nothing, without an error (as in Redis).
      const category = `@${value.toString().toLowerCase()}`;
      return (spec) => spec.aclCategories.includes(category);
    }
    case 'pattern':
      return (spec) => globMatch(value, Buffer.from(spec.name), true);
    default:
      return null;
  }
}

export function listCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const filter = listFilter(args);
  if (filter === null) {
    out.error(errors.syntax);
    return;
  }
  const names = everySpec(client).filter(filter).map((spec) => spec.name);
  out.arrayHeader(names.length);
  for (const name of names) out.bulkString(name);
}

// --- COMMAND GETKEYS / GETKEYSANDFLAGS -----------------------------------------------------

interface KeyReference {
  readonly position: number;
  readonly flags: readonly KeySpecFlag[];
}

/**
 * Key flags that depend on the arguments (key specs marked variable_flags): SET only reads
 * the old value when GET is given, otherwise it overwrites the key blindly.
 */
const VARIABLE_KEY_FLAGS: ReadonlyMap<string, (argv: readonly Buffer[]) => KeySpecFlag[]> =
  new Map([
    ['set', (argv: readonly Buffer[]) =>
      argv.slice(3).some((arg) => arg.latin1Slice().toLowerCase() === 'get')
        ? ['RW', 'access', 'update'] : ['OW', 'update']],
  ]);

/** Keys found by the key specs; null when an argument list does not fit a spec. */
function keyReferences(spec: CommandSpec, keySpecs: readonly KeySpec[],
    argv: readonly Buffer[]): KeyReference[] | null {
  const variableFlags = VARIABLE_KEY_FLAGS.get(spec.name);
  const found: KeyReference[] = [];
  for (const keySpec of keySpecs) {
    const first = keySpec.index;
    let last: number;
    if (keySpec.lastKey >= 0) last = first + keySpec.lastKey;
    else if (keySpec.limit === 0) last = argv.length + keySpec.lastKey;
    else last = first + Math.floor((argv.length - first) / keySpec.limit) + keySpec.lastKey;
    if (first >= argv.length || last >= argv.length || last < first) return null;
    const flags = variableFlags !== undefined && keySpec.flags.includes('variable_flags')
      ? variableFlags(argv) : keySpec.flags;
    for (let position = first; position <= last; position += keySpec.keyStep) {
      found.push({ position, flags });
    }
  }
  return found;
}

/** The command a GETKEYS argument list names, or undefined (Redis's lookupCommand). */
function targetCommand(client: Client, argv: readonly Buffer[]): CommandSpec | undefined {
  const commands = client.server.commands;
  const top = commands.lookup((argv[0] as Buffer).toString());
  if (top === undefined || top.subcommands === undefined || argv.length === 1) return top;
  return commands.lookupSubcommand(top, (argv[1] as Buffer).toString());
}

/** Replies with the error and returns null, or returns the keys (checks in Redis's order). */
function keysOf(client: Client, args: Buffer[], out: ReplyWriter): KeyReference[] | null {
  const argv = args.slice(2);
  const spec = targetCommand(client, argv);
  if (spec === undefined) {
    out.error('ERR Invalid command specified');
    return null;
  }
  const keySpecs = keySpecsOf(spec).filter((keySpec) => !keySpec.flags.includes('not_key'));
  if (keySpecs.length === 0) {
    out.error('ERR The command has no key arguments');
    return null;
  }
  const arity = spec.arity;
  if ((arity > 0 && argv.length !== arity) || argv.length < -arity) {
    out.error('ERR Invalid number of arguments specified for command');
    return null;
  }
  const found = keyReferences(spec, keySpecs, argv) ?? [];
  if (found.length === 0 && !spec.flags.includes('no_mandatory_keys')) {
    out.error('ERR Invalid arguments specified for command');
    return null;
  }
  return found;
}

export function getkeysCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const found = keysOf(client, args, out);
  if (found === null) return;
  out.arrayHeader(found.length);
  for (const reference of found) out.bulk(args[reference.position + 2] as Buffer);
}

export function getkeysandflagsCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const found = keysOf(client, args, out);
  if (found === null) return;
  out.arrayHeader(found.length);
  for (const reference of found) {
    out.arrayHeader(2);
    out.bulk(args[reference.position + 2] as Buffer);
    writeKeyFlags(out, reference.flags);
  }
}

// --- COMMAND HELP ---------------------------------------------------------------------------

const HELP_LINES: readonly string[] = [
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
  '    Names of the commands and subcommands, optionally filtered.',
  'GETKEYS <full-command>',
  '    The keys a full command line names.',
  'GETKEYSANDFLAGS <full-command>',
  '    The keys a full command line names, with their access flags.',
  'HELP',
  '    This text.',
];

export function helpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, HELP_LINES);
}
