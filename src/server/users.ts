/**
 * ACL users with Redis 7's rule language (`on`, `>password`, `~pattern`, `%R~pattern`,
 * `+@category`, `-command|sub`, ...): who may authenticate with which passwords, which
 * commands a user may run and which keys those commands may touch. Pure: no I/O.
 *
 * Permissions are precomputed whenever rules change: each user holds the set of command
 * specs it may run and a flag for "every command on every key", so dispatch tests one flag
 * for the default user and does a set lookup plus a key-pattern walk for the others.
 *
 * Rule strings are latin1 strings (one character per byte), as in protocol/errors.ts, so
 * passwords and key patterns keep their exact bytes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ACL_CATEGORIES } from '../commands/acl.js';
import type { AccessDenial, CommandTable, UserAccess, UserDetails } from '../commands/context.js';
import { docsOf, type KeySpec } from '../commands/docs.js';
import type { CommandSpec } from '../commands/spec.js';
import { globMatch } from '../util/glob.js';

/** Redis's reasons for refusing a rule (ACLSetUserStringError), shown after the rule. */
export const RULE_ERRORS = {
  syntax: 'Syntax error',
  unknownCommand: 'Unknown command or category name in ACL',
  noSuchPassword: 'The password you are trying to remove from the user does not exist',
  badHash: 'The password hash must be exactly 64 characters and contain only lowercase ' +
    'hexadecimal characters',
  keyAfterAll: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid " +
    "and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  channelAfterAll: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not " +
    "valid and does not have any effect. Try 'resetchannels' to start with an empty list of " +
    'channels',
  firstArgOfSubcommand: 'Allowing first-arg of a subcommand is not supported',
  // Our own: Redis 7 selectors ("(~key +get)") are not implemented.
  selectors: 'Selectors are not supported by RingKV',
} as const;

/** Spaces, control whitespace or NUL: Redis refuses them in names and patterns. */
const SPACE_OR_NUL = /[\s\0]/;

export function hasSpaces(text: string): boolean {
  return SPACE_OR_NUL.test(text);
}

export function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** A key access a command needs for the keys of one key spec. */
interface KeyRule {
  readonly spec: KeySpec;
  readonly read: boolean;
  readonly write: boolean;
  /** SET: the read depends on the GET option (key spec flag variable_flags). */
  readonly variable: boolean;
}

/**
 * The command table seen from the ACL: lookup by full name ("client|kill"), category
 * members, and the key rules of each command, all computed once at start.
 */
export class CommandCatalog {
  /** Every command and subcommand, in table order. */
  readonly specs: readonly CommandSpec[];
  private readonly keyRules = new Map<CommandSpec, readonly KeyRule[]>();
  private readonly noAuth = new Set<CommandSpec>();

  constructor(private readonly table: CommandTable) {
    const specs: CommandSpec[] = [];
    for (const spec of table.all()) {
      specs.push(spec);
      for (const sub of spec.subcommands ?? []) specs.push(sub);
    }
    this.specs = specs;
    for (const spec of specs) {
      if (spec.flags.includes('no_auth')) this.noAuth.add(spec);
      const rules = keyRulesOf(spec);
      if (rules.length > 0) this.keyRules.set(spec, rules);
    }
  }

  /** A command ("get") or subcommand ("client|kill"), any case; undefined when unknown. */
  find(name: string): CommandSpec | undefined {
    const parts = name.split('|');
    if (parts.length > 2 || parts[0] === '') return undefined;
    const top = this.table.lookup(parts[0] as string);
    if (parts.length === 1 || top === undefined) return top;
    if (top.subcommands === undefined) return undefined;
    return this.table.lookupSubcommand(top, parts[1] as string);
  }

  /**
   * The specs a `+@category` rule grants: every command of the category and, as Redis does,
   * every subcommand of a container in the category.
   */
  grantedBy(category: string): CommandSpec[] {
    const tag = `@${category}`;
    const granted: CommandSpec[] = [];
    for (const spec of this.table.all()) {
      const whole = spec.aclCategories.includes(tag);
      if (whole) granted.push(spec);
      for (const sub of spec.subcommands ?? []) {
        if (whole || sub.aclCategories.includes(tag)) granted.push(sub);
      }
    }
    return granted;
  }

  keyRulesOf(spec: CommandSpec): readonly KeyRule[] | undefined {
    return this.keyRules.get(spec);
  }

  /** AUTH, HELLO, QUIT, RESET: any user may run them. */
  isNoAuth(spec: CommandSpec): boolean {
    return this.noAuth.has(spec);
  }
}

/**
 * What a command's key specs need, as Redis 7 reads key-spec flags for ACLs: `access`
 * reads, `insert` / `update` / `delete` write. A key spec with neither (EXISTS, TYPE)
 * needs a matching pattern of any kind.
 */
function keyRulesOf(spec: CommandSpec): KeyRule[] {
  const docs = docsOf(spec.name);
  const keySpecs = docs?.keySpecs ?? legacyKeySpecs(spec);
  return keySpecs.filter((keySpec) => !keySpec.flags.includes('not_key')).map((keySpec) => ({
    spec: keySpec,
    read: keySpec.flags.includes('access'),
    write: keySpec.flags.includes('insert') || keySpec.flags.includes('update') ||
      keySpec.flags.includes('delete'),
    variable: keySpec.flags.includes('variable_flags') && spec.name === 'set',
  }));
}

/** A command without docs (a test prevents it): its key range, needing read and write. */
function legacyKeySpecs(spec: CommandSpec): KeySpec[] {
  const { first, last, step } = spec.keys;
  if (first === 0) return [];
  return [{ flags: ['RW', 'access', 'update'], index: first,
    lastKey: last < 0 ? last : last - first, keyStep: step, limit: 0 }];
}

/** SET reads the old value only with its GET option. */
function setReads(args: readonly Buffer[]): boolean {
  for (let index = 3; index < args.length; index++) {
    const arg = args[index] as Buffer;
    if (arg.length === 3 && arg.latin1Slice().toLowerCase() === 'get') return true;
  }
  return false;
}

interface KeyPattern {
  readonly text: string;
  readonly bytes: Buffer;
  read: boolean;
  write: boolean;
}

type PayloadFlag = 'none' | 'sanitize' | 'skip';

/** One user: its flags, passwords, key and channel patterns and command permissions. */
export class AclUser implements UserAccess {
  enabled = false;
  noPass = false;
  /** Dump payload sanitizing: accepted and shown, nothing to sanitize (no RESTORE). */
  private payload: PayloadFlag = 'none';
  /** SHA-256 digests of the passwords, in the order they were added. */
  private digests: Buffer[] = [];
  private allKeys = false;
  private keyPatterns: KeyPattern[] = [];
  private allChannels = false;
  private channels: string[] = [];
  /** Set by +@all: the user may run every command, also ones added later. */
  private allCommands = false;
  /** Command rules since the last +@all / -@all, in order, without repeats. */
  private commandRules: string[] = [];
  private allowed = new Set<CommandSpec>();
  /** First arguments allowed for commands otherwise denied (`+select|0`). */
  private firstArgs = new Map<CommandSpec, string[]>();
  /** Every command on every key: dispatch skips the check. Kept in step with the rules. */
  unrestricted = false;

  constructor(readonly name: string, private readonly catalog: CommandCatalog) {}

  /** Applies rules in order; on error returns [index of the rule, reason] and stops. */
  applyRules(rules: readonly Buffer[]): [number, string] | null {
    for (let index = 0; index < rules.length; index++) {
      const reason = this.applyRule((rules[index] as Buffer).latin1Slice());
      if (reason !== null) {
        this.refresh();
        return [index, reason];
      }
    }
    this.refresh();
    return null;
  }

  /** A copy to apply rules to, so a failing ACL SETUSER changes nothing. */
  clone(): AclUser {
    const copy = new AclUser(this.name, this.catalog);
    copy.copyFrom(this);
    return copy;
  }

  /** Takes over another user's rules (ACL SETUSER commits its copy into the live user). */
  copyFrom(other: AclUser): void {
    this.enabled = other.enabled;
    this.noPass = other.noPass;
    this.payload = other.payload;
    this.digests = [...other.digests];
    this.allKeys = other.allKeys;
    this.keyPatterns = other.keyPatterns.map((pattern) => ({ ...pattern }));
    this.allChannels = other.allChannels;
    this.channels = [...other.channels];
    this.allCommands = other.allCommands;
    this.commandRules = [...other.commandRules];
    this.allowed = new Set(other.allowed);
    this.firstArgs = new Map([...other.firstArgs].map(([spec, args]) => [spec, [...args]]));
    this.refresh();
  }

  /** True when `digest` is one of the user's password digests; compares every one. */
  hasPasswordDigest(digest: Buffer): boolean {
    let found = false;
    for (const candidate of this.digests) {
      if (timingSafeEqual(candidate, digest)) found = true;
    }
    return found;
  }

  /** Why this user may not run `args`, or null when it may (Redis 7 checking order). */
  denial(spec: CommandSpec, args: readonly Buffer[]): AccessDenial | null {
    if (!this.allowed.has(spec) && !this.catalog.isNoAuth(spec) &&
        !this.firstArgAllowed(spec, args)) {
      return 'command';
    }
    if (this.allKeys) return null;
    const rules = this.catalog.keyRulesOf(spec);
    if (rules === undefined) return null;
    for (const rule of rules) {
      if (!this.keysAllowed(rule, args)) return 'key';
    }
    return null;
  }

  /** The rules in Redis's ACL LIST form: flags, passwords, keys, channels, commands. */
  describe(): string {
    const parts = this.flagWords();
    for (const digest of this.digests) parts.push(`#${digest.toString('hex')}`);
    const keys = this.keysText();
    if (keys !== '') parts.push(keys);
    parts.push(this.allChannels ? '&*' : ['resetchannels', ...this.channelWords()].join(' '));
    parts.push(this.commandsText());
    return parts.join(' ');
  }

  /** ACL GETUSER's fields. */
  details(): UserDetails {
    return {
      flags: this.flagWords(),
      passwords: this.digests.map((digest) => digest.toString('hex')),
      commands: this.commandsText(),
      keys: this.keysText(),
      channels: this.allChannels ? '&*' : this.channelWords().join(' '),
    };
  }

  private flagWords(): string[] {
    const words = [this.enabled ? 'on' : 'off'];
    if (this.noPass) words.push('nopass');
    if (this.payload === 'sanitize') words.push('sanitize-payload');
    if (this.payload === 'skip') words.push('skip-sanitize-payload');
    return words;
  }

  private keysText(): string {
    if (this.allKeys) return '~*';
    return this.keyPatterns.map((pattern) => {
      if (pattern.read && pattern.write) return `~${pattern.text}`;
      return `%${pattern.read ? 'R' : 'W'}~${pattern.text}`;
    }).join(' ');
  }

  private channelWords(): string[] {
    return this.channels.map((channel) => `&${channel}`);
  }

  private commandsText(): string {
    return [this.allCommands ? '+@all' : '-@all', ...this.commandRules].join(' ');
  }

  private firstArgAllowed(spec: CommandSpec, args: readonly Buffer[]): boolean {
    const allowed = this.firstArgs.get(spec);
    if (allowed === undefined || args.length < 2) return false;
    const first = (args[1] as Buffer).latin1Slice().toLowerCase();
    return allowed.some((arg) => arg.toLowerCase() === first);
  }

  /** Every key of one key spec must match a pattern granting the access it needs. */
  private keysAllowed(rule: KeyRule, args: readonly Buffer[]): boolean {
    const keySpec = rule.spec;
    const count = args.length;
    const first = keySpec.index;
    let last: number;
    if (keySpec.lastKey >= 0) last = first + keySpec.lastKey;
    else if (keySpec.limit === 0) last = count + keySpec.lastKey;
    else last = first + Math.floor((count - first) / keySpec.limit) + keySpec.lastKey;
    // Arguments that do not fit the spec name no keys; the command reports its own error.
    if (first >= count || last >= count || last < first) return true;
    const read = rule.variable ? setReads(args) : rule.read;
    for (let position = first; position <= last; position += keySpec.keyStep) {
      if (!this.keyAllowed(args[position] as Buffer, read, rule.write)) return false;
    }
    return true;
  }

  private keyAllowed(key: Buffer, read: boolean, write: boolean): boolean {
    for (const pattern of this.keyPatterns) {
      if ((read && !pattern.read) || (write && !pattern.write)) continue;
      if (globMatch(pattern.bytes, key, false)) return true;
    }
    return false;
  }

  private refresh(): void {
    this.unrestricted = this.allKeys && this.allowed.size === this.catalog.specs.length;
  }

  // --- Rules ----------------------------------------------------------------------------

  /** Applies one rule; returns Redis's reason when it is refused (the user may be half-set). */
  private applyRule(rule: string): string | null {
    const keyword = this.applyKeyword(rule.toLowerCase());
    if (keyword) return null;
    switch (rule[0]) {
      case '>': return this.addPassword(sha256(Buffer.from(rule.slice(1), 'latin1')));
      case '<': return this.removePassword(sha256(Buffer.from(rule.slice(1), 'latin1')));
      case '#': return this.addHash(rule.slice(1));
      case '!': return this.removeHash(rule.slice(1));
      case '~': return this.addKeyPattern(rule.slice(1), true, true);
      case '%': return this.addFlaggedKeyPattern(rule);
      case '&': return this.addChannel(rule.slice(1));
      case '+': return this.allowCommands(rule.slice(1));
      case '-': return this.denyCommands(rule.slice(1));
      case '(': return RULE_ERRORS.selectors;
      default: return RULE_ERRORS.syntax;
    }
  }

  /** The rules that are words; false when `word` is none of them. */
  private applyKeyword(word: string): boolean {
    switch (word) {
      case '': break; // Redis accepts an empty rule and does nothing
      case 'on': this.enabled = true; break;
      case 'off': this.enabled = false; break;
      case 'nopass': this.noPass = true; this.digests = []; break;
      case 'resetpass': this.noPass = false; this.digests = []; break;
      case 'allkeys': case '~*': this.allKeys = true; this.keyPatterns = []; break;
      case 'resetkeys': this.allKeys = false; this.keyPatterns = []; break;
      case 'allchannels': case '&*': this.allChannels = true; this.channels = []; break;
      case 'resetchannels': this.allChannels = false; this.channels = []; break;
      case 'allcommands': case '+@all': this.allowAll(); break;
      case 'nocommands': case '-@all': this.denyAll(); break;
      case 'sanitize-payload': this.payload = 'sanitize'; break;
      case 'skip-sanitize-payload': this.payload = 'skip'; break;
      case 'clearselectors': break; // no selectors exist
      case 'reset': this.reset(); break;
      default: return false;
    }
    return true;
  }

  /** `reset`: no passwords, keys, channels or commands, disabled, payloads sanitized. */
  private reset(): void {
    this.noPass = false;
    this.digests = [];
    this.allKeys = false;
    this.keyPatterns = [];
    this.allChannels = false;
    this.channels = [];
    this.enabled = false;
    this.payload = 'sanitize';
    this.denyAll();
  }

  private addPassword(digest: Buffer): null {
    if (!this.digests.some((existing) => existing.equals(digest))) this.digests.push(digest);
    this.noPass = false;
    return null;
  }

  private removePassword(digest: Buffer): string | null {
    const index = this.digests.findIndex((existing) => existing.equals(digest));
    if (index === -1) return RULE_ERRORS.noSuchPassword;
    this.digests.splice(index, 1);
    this.noPass = false;
    return null;
  }

  private addHash(hex: string): string | null {
    if (!/^[0-9a-f]{64}$/.test(hex)) return RULE_ERRORS.badHash;
    return this.addPassword(Buffer.from(hex, 'hex'));
  }

  private removeHash(hex: string): string | null {
    if (!/^[0-9a-f]{64}$/.test(hex)) return RULE_ERRORS.badHash;
    return this.removePassword(Buffer.from(hex, 'hex'));
  }

  /** `%R~pattern`, `%W~pattern`, `%RW~pattern` (letters in any order and case). */
  private addFlaggedKeyPattern(rule: string): string | null {
    let read = false;
    let write = false;
    let index = 1;
    for (; index < rule.length && rule[index] !== '~'; index++) {
      const letter = (rule[index] as string).toUpperCase();
      if (letter === 'R' && !read) read = true;
      else if (letter === 'W' && !write) write = true;
      else return RULE_ERRORS.syntax;
    }
    if (!read && !write) return RULE_ERRORS.syntax;
    // Redis reads a missing '~' ("%R") as an empty pattern.
    return this.addKeyPattern(rule.slice(index + 1), read, write);
  }

  private addKeyPattern(text: string, read: boolean, write: boolean): string | null {
    if (this.allKeys) return RULE_ERRORS.keyAfterAll;
    if (hasSpaces(text)) return RULE_ERRORS.syntax;
    const existing = this.keyPatterns.find((pattern) => pattern.text === text);
    if (existing !== undefined) {
      existing.read ||= read;
      existing.write ||= write;
    } else {
      this.keyPatterns.push({ text, bytes: Buffer.from(text, 'latin1'), read, write });
    }
    return null;
  }

  private addChannel(text: string): string | null {
    if (this.allChannels) return RULE_ERRORS.channelAfterAll;
    if (hasSpaces(text)) return RULE_ERRORS.syntax;
    if (!this.channels.includes(text)) this.channels.push(text);
    return null;
  }

  private allowAll(): void {
    this.allowed = new Set(this.catalog.specs);
    this.firstArgs.clear();
    this.allCommands = true;
    this.commandRules = [];
  }

  private denyAll(): void {
    this.allowed.clear();
    this.firstArgs.clear();
    this.allCommands = false;
    this.commandRules = [];
  }

  /** `+command`, `+command|subcommand`, `+command|first-arg`, `+@category`. */
  private allowCommands(body: string): string | null {
    if (body.startsWith('@')) return this.changeCategory(body.slice(1).toLowerCase(), true);
    const bar = body.lastIndexOf('|');
    if (bar === -1) return this.changeCommand(body, true);
    const head = this.catalog.find(body.slice(0, bar));
    const tail = body.slice(bar + 1);
    if (head === undefined) return RULE_ERRORS.unknownCommand;
    if (head.name.includes('|')) return RULE_ERRORS.firstArgOfSubcommand;
    if (tail === '') return RULE_ERRORS.syntax;
    if (head.subcommands !== undefined) return this.changeCommand(body, true);
    return this.allowFirstArg(head, tail);
  }

  /** `-command`, `-command|subcommand`, `-@category` (no first-arg removal, as Redis). */
  private denyCommands(body: string): string | null {
    if (body.startsWith('@')) return this.changeCategory(body.slice(1).toLowerCase(), false);
    return this.changeCommand(body, false);
  }

  private changeCommand(name: string, allow: boolean): string | null {
    const spec = this.catalog.find(name);
    if (spec === undefined) return RULE_ERRORS.unknownCommand;
    for (const member of [spec, ...(spec.subcommands ?? [])]) this.setAllowed(member, allow);
    this.remember(allow, spec.name);
    return null;
  }

  private changeCategory(category: string, allow: boolean): string | null {
    if (!ACL_CATEGORIES.includes(category)) return RULE_ERRORS.unknownCommand;
    for (const spec of this.catalog.grantedBy(category)) this.setAllowed(spec, allow);
    this.remember(allow, `@${category}`);
    return null;
  }

  private allowFirstArg(spec: CommandSpec, arg: string): null {
    const list = this.firstArgs.get(spec) ?? [];
    // Already there: nothing changes, not even the order ACL LIST shows.
    if (list.some((existing) => existing.toLowerCase() === arg.toLowerCase())) return null;
    list.push(arg);
    this.firstArgs.set(spec, list);
    this.remember(true, `${spec.name}|${arg}`);
    return null;
  }

  private setAllowed(spec: CommandSpec, allow: boolean): void {
    if (allow) this.allowed.add(spec);
    else this.allowed.delete(spec);
    this.firstArgs.delete(spec);
  }

  /**
   * Keeps the command rules replayable and short: a rule replaces an earlier one about the
   * same command or category, and a whole-command rule replaces that command's subcommand
   * and first-argument rules (the form Redis 7.2 prints; see the report for 7.0.15's).
   */
  private remember(allow: boolean, body: string): void {
    const lower = body.toLowerCase();
    const whole = !lower.includes('|') && !lower.startsWith('@');
    this.commandRules = this.commandRules.filter((rule) => {
      const existing = rule.slice(1).toLowerCase();
      return existing !== lower && !(whole && existing.startsWith(`${lower}|`));
    });
    this.commandRules.push(`${allow ? '+' : '-'}${body}`);
  }
}
