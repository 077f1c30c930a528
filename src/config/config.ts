/**
 * The node's settings: loaded from a redis.conf-style file (with `include`), RINGKV_*
 * environment variables and `--name value` flags, in that order of precedence (later
 * wins), validated against the directive table; changed at run time by CONFIG SET and
 * written back by CONFIG REWRITE. Invalid input at start fails with file, line and reason.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import { globMatch } from '../util/glob.js';
import { splitArgs } from '../util/split-args.js';
import {
  DIRECTIVES,
  DIRECTIVES_BY_NAME,
  LINE_DIRECTIVES,
  LINE_DIRECTIVES_BY_NAME,
  normalise,
  type Directive,
} from './directives.js';

const INCLUDE_DEPTH_MAX = 16;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where a directive came from, for error messages. */
type Origin = string;

/** Which kind of source set a directive (a later kind overrides an earlier one). */
export type ConfigSource = 'file' | 'environment' | 'flags';

/** One occurrence of a line directive (`user alice on >pw ~*`), words after the name. */
export interface ConfigLine {
  readonly words: readonly string[];
  readonly origin: string;
  readonly source: ConfigSource;
}

/** The current entries of a line directive, for CONFIG REWRITE (words after the name). */
export type LineSupplier = () => ReadonlyArray<readonly string[]>;

export class Config {
  private readonly values = new Map<string, string>();
  private readonly listeners = new Map<string, Array<(value: string) => void>>();
  /** Repeatable directives already set from the current source (the first use resets). */
  private readonly repeatedFrom = new Map<string, Origin>();
  private readonly lineEntries = new Map<string, ConfigLine[]>();
  private readonly lineSuppliers = new Map<string, LineSupplier>();
  configFile: string | null = null;

  constructor() {
    for (const directive of DIRECTIVES) this.values.set(directive.name, directive.defaultValue);
  }

  /**
   * Builds the settings from the command line (`[configfile] [--name value ...]`) and the
   * environment. Throws ConfigError naming the origin of the first problem.
   */
  static load(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
    const config = new Config();
    let rest = argv;
    if (rest.length > 0 && !(rest[0] as string).startsWith('--')) {
      config.configFile = resolve(rest[0] as string);
      config.loadFile(config.configFile, 0);
      rest = rest.slice(1);
    }
    config.loadEnvironment(env);
    config.loadFlags(rest);
    return config;
  }

  /** A setting's current value, as CONFIG GET shows it. */
  value(name: string): string {
    const value = this.values.get(name);
    if (value === undefined) throw new ConfigError(`unknown setting ${name}`);
    return value;
  }

  integer(name: string): number {
    return Number(this.value(name));
  }

  flag(name: string): boolean {
    return this.value(name) === 'yes';
  }

  /** The occurrences of a line directive (`user`), in the order they were read. */
  lines(name: string): readonly ConfigLine[] {
    return this.lineEntries.get(name) ?? [];
  }

  /**
   * Names who owns a line directive's entries at run time (users change with ACL SETUSER):
   * CONFIG REWRITE writes what `supplier` returns instead of the entries read at start.
   */
  provideLines(name: string, supplier: LineSupplier): void {
    this.lineSuppliers.set(name, supplier);
  }

  /** Calls `listener` whenever CONFIG SET changes the setting. */
  onChange(name: string, listener: (value: string) => void): void {
    const list = this.listeners.get(name) ?? [];
    list.push(listener);
    this.listeners.set(name, list);
  }

  /**
   * CONFIG GET as Redis 7.0 answers it: a pattern without glob characters is looked up
   * case-insensitively and answered under the name as given; a glob adds the canonical
   * names it matches. A setting is answered once, under its first name.
   */
  get(patterns: readonly Buffer[]): Array<[string, string]> {
    const pairs: Array<[string, string]> = [];
    const answered = new Set<string>();
    const add = (shownName: string, directive: Directive): void => {
      if (answered.has(shownName.toLowerCase()) || answered.has(directive.name)) return;
      answered.add(shownName.toLowerCase());
      answered.add(directive.name);
      pairs.push([shownName, this.value(directive.name)]);
    };
    for (const pattern of patterns) {
      const text = pattern.toString();
      if (!/[[*?]/.test(text)) {
        const directive = DIRECTIVES_BY_NAME.get(text.toLowerCase());
        if (directive !== undefined) add(text, directive);
        continue;
      }
      for (const directive of DIRECTIVES) {
        if (globMatch(pattern, Buffer.from(directive.name), true)) add(directive.name, directive);
      }
    }
    return pairs;
  }

  /**
   * CONFIG SET, all or nothing, with Redis 7.0's checking order: every name first (unknown,
   * immutable, protected, duplicate; the first problem wins, named as typed), then values.
   */
  set(pairs: ReadonlyArray<[string, string]>): string | null {
    const failed = (rawName: string, reason: string): string =>
      `ERR CONFIG SET failed (possibly related to argument '${rawName}') - ${reason}`;
    const directives: Directive[] = [];
    for (const [rawName] of pairs) {
      const directive = DIRECTIVES_BY_NAME.get(rawName.toLowerCase());
      if (directive === undefined) {
        return `ERR Unknown option or number of arguments for CONFIG SET - '${rawName}'`;
      }
      if (!directive.mutable) return failed(rawName, "can't set immutable config");
      if (directive.protectedConfig === true) return failed(rawName, "can't set protected config");
      if (directives.includes(directive)) return failed(rawName, 'duplicate parameter');
      directives.push(directive);
    }
    const updates: Array<[Directive, string]> = [];
    for (let index = 0; index < pairs.length; index++) {
      const [, rawValue] = pairs[index] as [string, string];
      const directive = directives[index] as Directive;
      const result = normalise(directive, rawValue);
      // Value errors name the setting itself (config->name), not the name as typed.
      if ('error' in result) return failed(directive.name, result.error);
      updates.push([directive, result.value]);
    }
    for (const [directive, value] of updates) this.apply(directive.name, value);
    return null;
  }

  rewrite(): string | null {
    if (this.configFile === null) return 'ERR The server is running without a config file';
    try {
      const original = readFileSync(this.configFile, 'utf8').split('\n');
      const written = new Set<string>();
      const lines: string[] = [];
      for (const line of original) {
        const args = splitArgs(Buffer.from(line.trim()));
        const name = args?.[0]?.toString().toLowerCase();
        const directive = name === undefined ? undefined : DIRECTIVES_BY_NAME.get(name);
        if (name !== undefined && LINE_DIRECTIVES_BY_NAME.has(name) &&
            !line.trim().startsWith('#')) {
          // Every entry goes where the first one was; the other old lines go.
          if (!written.has(name)) lines.push(...this.currentLines(name));
          written.add(name);
        } else if (directive === undefined || line.trim().startsWith('#')) {
          lines.push(line);
        } else if (!written.has(directive.name)) {
          written.add(directive.name);
          lines.push(this.line(directive));
        }
      }
      const added = DIRECTIVES.filter((directive) => !written.has(directive.name) &&
        this.value(directive.name) !== directive.defaultValue);
      const addedLines = LINE_DIRECTIVES.filter((directive) => !written.has(directive.name))
        .flatMap((directive) => this.currentLines(directive.name));
      if (added.length > 0 || addedLines.length > 0) lines.push('# Generated by CONFIG REWRITE');
      for (const directive of added) lines.push(this.line(directive));
      lines.push(...addedLines);
      const temporary = `${this.configFile}.rewrite-${process.pid}`;
      writeFileSync(temporary, lines.join('\n'));
      renameSync(temporary, this.configFile);
      return null;
    } catch (error) {
      return `ERR Rewriting config file: ${(error as Error).message}`;
    }
  }

  /** A line directive's entries as config lines: from its supplier, else as read. */
  private currentLines(name: string): string[] {
    const supplier = this.lineSuppliers.get(name);
    const entries = supplier === undefined
      ? this.lines(name).map((entry) => entry.words) : supplier();
    return entries.map((words) => [name, ...words.map(quote)].join(' '));
  }

  private line(directive: Directive): string {
    const value = this.value(directive.name);
    if (directive.kind === 'list' || (directive.repeatable === true && value !== '')) {
      return `${directive.name} ${value}`;
    }
    return `${directive.name} ${quote(value)}`;
  }

  private apply(name: string, value: string): void {
    this.values.set(name, value);
    for (const listener of this.listeners.get(name) ?? []) listener(value);
  }

  private loadFile(path: string, depth: number): void {
    if (depth > INCLUDE_DEPTH_MAX) {
      throw new ConfigError(`${path}: include nested more than ${INCLUDE_DEPTH_MAX} deep`);
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`can't open config file '${path}': ${(error as Error).message}`);
    }
    const lines = text.split('\n');
    for (let index = 0; index < lines.length; index++) {
      const line = (lines[index] as string).trim();
      if (line === '' || line.startsWith('#')) continue;
      const origin = `${path}:${index + 1}`;
      const args = splitArgs(Buffer.from(line));
      if (args === null) throw new ConfigError(`${origin}: unbalanced quotes in '${line}'`);
      if (args.length === 0) continue;
      const words = args.map((arg) => arg.toString());
      if ((words[0] as string).toLowerCase() === 'include') {
        if (words.length !== 2) throw new ConfigError(`${origin}: include takes one path`);
        this.loadFile(resolve(words[1] as string), depth + 1);
        continue;
      }
      this.setFromSource(words[0] as string, words.slice(1), origin, 'file');
    }
  }

  private loadEnvironment(env: NodeJS.ProcessEnv): void {
    for (const directive of LINE_DIRECTIVES) {
      const variable = environmentVariable(directive.name);
      const value = env[variable];
      if (value === undefined) continue;
      // One entry per line of the variable (RINGKV_USER="alice on >pw ~*\nbob on ...").
      for (const line of value.split('\n')) {
        const args = splitArgs(Buffer.from(line.trim()));
        const origin = `environment variable ${variable}`;
        if (args === null) throw new ConfigError(`${origin}: unbalanced quotes in '${line}'`);
        if (args.length === 0) continue;
        this.setFromSource(directive.name, args.map((arg) => arg.toString()), origin,
          'environment');
      }
    }
    for (const directive of DIRECTIVES) {
      const variable = environmentVariable(directive.name);
      const value = env[variable];
      if (value === undefined) continue;
      const words = directive.kind === 'list' ? value.split(/\s+/).filter(Boolean) : [value];
      this.setFromSource(directive.name, words, `environment variable ${variable}`,
        'environment');
    }
  }

  private loadFlags(argv: readonly string[]): void {
    let index = 0;
    while (index < argv.length) {
      const flag = argv[index] as string;
      if (!flag.startsWith('--') || flag.length === 2) {
        throw new ConfigError(`command line: expected --name value, got '${flag}'`);
      }
      const words: string[] = [];
      index++;
      while (index < argv.length && !(argv[index] as string).startsWith('--')) {
        words.push(argv[index] as string);
        index++;
      }
      this.setFromSource(flag.slice(2), words, `command-line flag ${flag}`, 'flags');
    }
  }

  /** Sets a directive from a file line, variable or flag; throws with the origin. */
  private setFromSource(rawName: string, words: readonly string[], origin: Origin,
      source: ConfigSource): void {
    const name = rawName.toLowerCase();
    const lineDirective = LINE_DIRECTIVES_BY_NAME.get(name);
    if (lineDirective !== undefined) {
      if (words.length < lineDirective.wordsMin) {
        throw new ConfigError(`${origin}: wrong number of arguments, use ${lineDirective.usage}`);
      }
      const entries = this.lineEntries.get(name) ?? [];
      entries.push({ words: [...words], origin, source });
      this.lineEntries.set(name, entries);
      return;
    }
    const directive = DIRECTIVES_BY_NAME.get(name);
    if (directive === undefined) {
      throw new ConfigError(`${origin}: unknown directive '${rawName}'`);
    }
    let raw: string;
    if (directive.kind === 'list') {
      if (words.length === 0) throw new ConfigError(`${origin}: '${name}' needs a value`);
      raw = words.join(' ');
    } else if (directive.repeatable === true) {
      raw = this.accumulate(directive, words, origin);
    } else {
      if (words.length !== 1) {
        throw new ConfigError(`${origin}: '${name}' takes exactly one value`);
      }
      raw = words[0] as string;
    }
    const result = normalise(directive, raw);
    if ('error' in result) {
      throw new ConfigError(`${origin}: invalid value '${raw}' for '${name}': ${result.error}`);
    }
    this.values.set(directive.name, result.value);
  }

  /** `save 3600 1` lines add up; `save ""` clears (as in redis.conf). */
  private accumulate(directive: Directive, words: readonly string[], origin: Origin): string {
    const value = words.join(' ').trim();
    const previous = this.repeatedFrom.has(directive.name) ? this.value(directive.name) : '';
    this.repeatedFrom.set(directive.name, origin);
    if (value === '') return '';
    return previous === '' ? value : `${previous} ${value}`;
  }
}

function environmentVariable(name: string): string {
  return `RINGKV_${name.toUpperCase().replace(/-/g, '_')}`;
}

const REPR_ESCAPES: Readonly<Record<number, string>> = {
  0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x07: '\\a', 0x08: '\\b',
};

/**
 * A value as a config file token. Anything but plain printable words is written the way
 * Redis's sdscatrepr writes it (escapes, \xHH for other bytes), so that every value,
 * control characters and non-ASCII included, reads back unchanged through splitArgs.
 */
function quote(value: string): string {
  if (value !== '' && /^[\x21-\x7e]+$/.test(value) && !/["'\\]/.test(value)) return value;
  let text = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    const escape = REPR_ESCAPES[byte];
    if (escape !== undefined) text += escape;
    else if (byte >= 0x20 && byte <= 0x7e) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${text}"`;
}
