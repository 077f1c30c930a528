/**
 * Authentication and access control: the users (the default user with `requirepass`, users
 * declared with `user` lines or ACL SETUSER), their per-user consistency levels, and Redis's
 * protected mode: with no password for the default user, only loopback clients may connect.
 */
import type { AccessDenial, AuthService, CommandTable, UserAccess, UserDetails }
  from '../commands/context.js';
import { ConfigError, type Config, type ConfigLine, type ConfigSource } from '../config/config.js';
import { levelName, parseLevel, type Consistency, type Level }
  from '../coordinator/consistency.js';
import { AclUser, CommandCatalog, hasSpaces, sha256 } from './users.js';

const INVALID_USER_NAME = "Usernames can't contain spaces or null characters";
const DUPLICATE_USER = 'Duplicate user found. A user can only be defined once in config files';
const DEFAULT_USER = 'default';

/** Levels a user-consistency line sets; a missing one comes from the server default. */
interface ConsistencyOverride {
  read?: Level;
  write?: Level;
}

/** INFO stats counters (acl_access_denied_*). */
export interface AclDenials {
  auth: number;
  command: number;
  key: number;
}

export class Users implements AuthService {
  private readonly users = new Map<string, AclUser>();
  private readonly overrides = new Map<string, ConsistencyOverride>();
  private readonly defaultUser: AclUser;
  /** Runs as the user of a name that is gone: may do nothing. */
  private readonly nobody: AclUser;
  private requirepass = '';
  readonly denials: AclDenials = { auth: 0, command: 0, key: 0 };

  constructor(private readonly catalog: CommandCatalog) {
    this.defaultUser = this.standardDefaultUser('');
    this.users.set(DEFAULT_USER, this.defaultUser);
    this.nobody = new AclUser('', catalog);
  }

  /**
   * The users of a configuration: the default user (with requirepass), then every `user`
   * line, then `user-consistency` lines. Throws ConfigError naming the line of a problem.
   * Keeps following requirepass and tells CONFIG REWRITE to write the users back.
   */
  static fromConfig(config: Config, commands: CommandTable, replicationFactor: number): Users {
    const users = new Users(new CommandCatalog(commands));
    users.setDefaultPassword(config.value('requirepass'));
    users.declare(config.lines('user'));
    users.loadConsistency(config.lines('user-consistency'), replicationFactor);
    config.onChange('requirepass', (value) => users.setDefaultPassword(value));
    config.provideLines('user', () => users.userLines());
    config.provideLines('user-consistency', () => users.consistencyLines());
    return users;
  }

  get required(): boolean {
    return !(this.defaultUser.enabled && this.defaultUser.noPass);
  }

  get defaultUserNoPass(): boolean {
    return this.defaultUser.noPass;
  }

  /** requirepass, as Redis applies it: `resetpass` then `>password`, or `nopass` for "". */
  setDefaultPassword(password: string): void {
    this.requirepass = password;
    this.defaultUser.applyRules([Buffer.from('resetpass'), passwordRule(password)]);
  }

  authenticate(user: string, password: Buffer): boolean {
    // Hash first whatever the user, so an unknown name costs what a known one does.
    const digest = sha256(password);
    const found = this.users.get(user);
    if (found !== undefined && found.enabled &&
        (found.noPass || found.hasPasswordDigest(digest))) {
      return true;
    }
    this.denials.auth++;
    return false;
  }

  access(user: string): UserAccess {
    return this.users.get(user) ?? this.nobody;
  }

  recordDenial(denial: AccessDenial): void {
    if (denial === 'command') this.denials.command++;
    else this.denials.key++;
  }

  resetDenials(): void {
    this.denials.auth = 0;
    this.denials.command = 0;
    this.denials.key = 0;
  }

  userNames(): string[] {
    return [...this.users.keys()].sort((a, b) =>
      Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
  }

  describe(user: string): string | null {
    return this.users.get(user)?.describe() ?? null;
  }

  details(user: string): UserDetails | null {
    return this.users.get(user)?.details() ?? null;
  }

  setUser(user: string, rules: readonly Buffer[]): string | null {
    if (hasSpaces(user)) return `ERR ${INVALID_USER_NAME}`;
    const existing = this.users.get(user);
    // Rules go to a copy first: a refused rule leaves the user (or its absence) as it was.
    const working = existing?.clone() ?? new AclUser(user, this.catalog);
    const failure = working.applyRules(rules);
    if (failure !== null) {
      const [index, reason] = failure;
      return `ERR Error in ACL SETUSER modifier '${cText(rules[index] as Buffer)}': ${reason}`;
    }
    if (existing === undefined) this.users.set(user, working);
    else existing.copyFrom(working);
    return null;
  }

  deleteUser(user: string): boolean {
    const found = this.users.get(user);
    if (found === undefined || user === DEFAULT_USER) return false;
    this.users.delete(user);
    this.overrides.delete(user);
    // Connections still holding the object (closing after this reply) may do nothing.
    found.applyRules([Buffer.from('reset')]);
    return true;
  }

  /** The consistency of a connection authenticated as `user`: its override, else `base`. */
  consistencyFor(user: string, base: Consistency): Consistency {
    const override = this.overrides.get(user);
    if (override === undefined) return base;
    return { read: override.read ?? base.read, write: override.write ?? base.write };
  }

  // --- Configuration --------------------------------------------------------------------

  private standardDefaultUser(password: string): AclUser {
    const user = new AclUser(DEFAULT_USER, this.catalog);
    user.applyRules(['on', '~*', '&*', '+@all'].map((rule) => Buffer.from(rule)));
    user.applyRules([passwordRule(password)]);
    return user;
  }

  /**
   * `user` lines. As in Redis a name may be declared once per source (file, environment,
   * flags); a later source replaces an earlier one's declaration, as for other settings.
   * A `user default` line starts from `reset`, so it overrides requirepass (as in Redis).
   */
  private declare(lines: readonly ConfigLine[]): void {
    const declaredIn = new Map<string, ConfigSource>();
    for (const line of lines) {
      const [shownName, ...words] = line.words as [string, ...string[]];
      const fail = (reason: string): ConfigError => new ConfigError(
        `${line.origin}: Error in user declaration '${shownName}': ${reason}`);
      const name = latin1(shownName);
      if (hasSpaces(name)) throw fail(INVALID_USER_NAME);
      if (declaredIn.get(name) === line.source) throw fail(DUPLICATE_USER);
      declaredIn.set(name, line.source);
      const user = name === DEFAULT_USER ? this.defaultUser : new AclUser(name, this.catalog);
      const rules = words.map((word) => Buffer.from(word, 'utf8'));
      if (user === this.defaultUser) rules.unshift(Buffer.from('reset'));
      const failure = user.applyRules(rules);
      if (failure !== null) {
        const [index, reason] = failure;
        throw fail(`${reason} (${ruleShown(rules[index] as Buffer)})`);
      }
      this.users.set(name, user);
    }
  }

  /** `user-consistency <name> <level>` or `<name> READ <level> [WRITE <level>]`. */
  private loadConsistency(lines: readonly ConfigLine[], replicationFactor: number): void {
    for (const line of lines) {
      const [shownName, ...words] = line.words as [string, ...string[]];
      const name = latin1(shownName);
      if (!this.users.has(name)) {
        throw new ConfigError(`${line.origin}: user-consistency names the user '${shownName}', ` +
          'which no user line declares');
      }
      const parsed = parseOverride(words, replicationFactor);
      if (typeof parsed === 'string') throw new ConfigError(`${line.origin}: ${parsed}`);
      this.overrides.set(name, { ...this.overrides.get(name), ...parsed });
    }
  }

  /**
   * `user` lines for CONFIG REWRITE: every user, so ACL SETUSER / DELUSER survive a restart.
   * The default user only when it is not what requirepass alone makes of it: a written
   * `user default` line would override later edits of requirepass in the file.
   */
  private userLines(): string[][] {
    const standard = this.standardDefaultUser(this.requirepass).describe();
    const lines: string[][] = [];
    for (const name of this.userNames()) {
      const rules = (this.describe(name) as string);
      if (name === DEFAULT_USER && rules === standard) continue;
      lines.push([name, ...rules.split(' ')].map(utf8));
    }
    return lines;
  }

  private consistencyLines(): string[][] {
    const lines: string[][] = [];
    for (const [name, override] of this.overrides) {
      const words = [utf8(name)];
      if (override.read !== undefined) words.push('READ', levelName(override.read));
      if (override.write !== undefined) words.push('WRITE', levelName(override.write));
      lines.push(words);
    }
    return lines;
  }
}

function parseOverride(words: readonly string[],
    replicationFactor: number): ConsistencyOverride | string {
  const usage = 'user-consistency takes <name> <level> or <name> READ <level> [WRITE <level>]';
  const override: ConsistencyOverride = {};
  if (words.length === 1 && /^(read|write)$/i.test(words[0] as string)) return usage;
  const pairs: Array<[string, string]> = words.length === 1
    ? [['read', words[0] as string], ['write', words[0] as string]] : [];
  if (words.length !== 1) {
    if (words.length % 2 !== 0) return usage;
    for (let index = 0; index < words.length; index += 2) {
      pairs.push([(words[index] as string).toLowerCase(), words[index + 1] as string]);
    }
  }
  for (const [which, text] of pairs) {
    const level = parseLevel(text);
    if (which !== 'read' && which !== 'write') return usage;
    if (level === null) {
      return `invalid consistency level '${text}': use ONE, QUORUM, ALL or a number of replicas`;
    }
    if (typeof level === 'number' && level > replicationFactor) {
      return `consistency level ${level} exceeds the replication factor ${replicationFactor}`;
    }
    override[which] = level;
  }
  return override;
}

/** The rule requirepass stands for: `>password`, or `nopass` when it is empty. */
function passwordRule(password: string): Buffer {
  return password === '' ? Buffer.from('nopass')
    : Buffer.concat([Buffer.from('>'), Buffer.from(password, 'utf8')]);
}

/** A rule in a start-up error; passwords are never echoed into logs. */
function ruleShown(rule: Buffer): string {
  const text = rule.toString('utf8');
  return /^[<>#!]/.test(text) ? 'a password rule' : `rule '${text}'`;
}

/** `%s` of a rule in an error reply: the bytes up to a NUL, one character per byte. */
function cText(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return (nul === -1 ? bytes : bytes.subarray(0, nul)).latin1Slice();
}

/** Config words are UTF-8 strings; users and rules are byte (latin1) strings. */
function latin1(text: string): string {
  return Buffer.from(text, 'utf8').latin1Slice();
}

function utf8(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

export const PROTECTED_MODE_DENIED = '-DENIED Redis is running in protected mode because ' +
  'protected mode is enabled and no password is set for the default user. In this mode ' +
  'connections are only accepted from the loopback interface. If you want to connect from ' +
  'external computers to Redis you may adopt one of the following solutions: 1) Just disable ' +
  "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback " +
  'interface by connecting to Redis from the same host the server is running, however MAKE ' +
  'SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to ' +
  'make this change permanent. 2) Alternatively you can just disable the protected mode by ' +
  "editing the Redis configuration file, and setting the protected mode option to 'no', and " +
  "then restarting the server. 3) If you started the server manually just for testing, " +
  "restart it with the '--protected-mode no' option. 4) Set up an authentication password " +
  'for the default user. NOTE: You only need to do one of the above things in order for the ' +
  'server to start accepting connections from the outside.\r\n';
