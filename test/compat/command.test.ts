/**
 * COMMAND and its subcommands against redis-server 7.0.15: COMMAND INFO byte for byte (our
 * key-spec notes are our own words, so their text is masked), COMMAND DOCS structure (facts
 * equal, prose masked), GETKEYS / GETKEYSANDFLAGS and errors byte for byte, LIST name sets,
 * the go-redis view of COMMAND, and redis-cli's help lines built from COMMAND DOCS.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { redisServerAvailable, startNode, startRedis, type ServerProcess }
  from '../helpers/processes.js';
import { RespClient, replyEnd } from '../helpers/resp-client.js';
import { waitFor } from '../helpers/wait.js';

const skip = redisServerAvailable() ? false : 'redis-server is not installed';

// --- A small RESP reader for structural comparisons ------------------------------------------

type Resp =
  | { readonly kind: 'simple' | 'error' | 'bulk'; readonly text: string }
  | { readonly kind: 'integer'; readonly value: number }
  | { readonly kind: 'null' }
  | { readonly kind: 'array' | 'set'; readonly items: Resp[] }
  | { readonly kind: 'map'; readonly items: Resp[] };

/** Our replies nest a handful of levels; anything deeper is a bug, not a reply. */
const DEPTH_MAX = 16;

/** Raw bytes of the elements of the aggregate reply `raw` (a map gives keys and values). */
function elements(raw: string): string[] {
  const bytes = Buffer.from(raw, 'latin1');
  let offset = bytes.indexOf('\r\n') + 2;
  const found: string[] = [];
  while (offset < bytes.length) {
    const end = replyEnd(bytes, offset);
    assert.ok(end > offset, `truncated reply ${JSON.stringify(raw.slice(0, 80))}`);
    found.push(bytes.subarray(offset, end).toString('latin1'));
    offset = end;
  }
  return found;
}

function parse(raw: string, depth = 0): Resp {
  assert.ok(depth < DEPTH_MAX, 'reply nested too deeply');
  const header = raw.slice(1, raw.indexOf('\r\n'));
  switch (raw[0]) {
    case '+': return { kind: 'simple', text: header };
    case '-': return { kind: 'error', text: header };
    case ':': return { kind: 'integer', value: Number(header) };
    case '_': return { kind: 'null' };
    case '$':
      if (header === '-1') return { kind: 'null' };
      return { kind: 'bulk', text: raw.slice(raw.indexOf('\r\n') + 2, -2) };
    case '*': case '~': case '%': {
      if (header === '-1') return { kind: 'null' };
      const items = elements(raw).map((item) => parse(item, depth + 1));
      return { kind: raw[0] === '*' ? 'array' : raw[0] === '~' ? 'set' : 'map', items };
    }
    default:
      throw new Error(`unexpected reply ${JSON.stringify(raw.slice(0, 40))}`);
  }
}

function itemsOf(value: Resp): Resp[] {
  assert.ok('items' in value, `not an aggregate: ${JSON.stringify(value)}`);
  return value.items;
}

function textOf(value: Resp): string {
  assert.ok('text' in value, `not a string: ${JSON.stringify(value)}`);
  return value.text;
}

/** Key/value pairs of a RESP3 map or of its RESP2 flat-array form. */
function pairsOf(value: Resp): Array<[string, Resp]> {
  const items = itemsOf(value);
  const pairs: Array<[string, Resp]> = [];
  for (let index = 0; index < items.length; index += 2) {
    pairs.push([textOf(items[index] as Resp), items[index + 1] as Resp]);
  }
  return pairs;
}

// --- Masks for what is ours on purpose ------------------------------------------------------

/** Key-spec notes are prose: keep the field and its position, drop the text. */
function maskNotes(raw: string): string {
  return raw.replace(/\$5\r\nnotes\r\n\$\d+\r\n[^\r]*\r\n/g, '$5\r\nnotes\r\n<notes>\r\n');
}

const PROSE_FIELDS: ReadonlySet<string> = new Set(['summary', 'complexity', 'replaced_by']);
const PROSE: Resp = { kind: 'bulk', text: '<prose>' };

/**
 * A COMMAND DOCS value with the prose replaced, history reduced to its versions and the
 * subcommand map reduced to `keep` names, sorted (Redis lists them in hash order).
 */
function normalizeDocs(value: Resp, keep: ReadonlySet<string>): unknown {
  return pairsOf(value).map(([field, fieldValue]) => {
    if (PROSE_FIELDS.has(field)) return [field, PROSE];
    if (field === 'history') {
      return [field, itemsOf(fieldValue).map((entry) => itemsOf(entry)[0])];
    }
    if (field === 'subcommands') {
      const subs = pairsOf(fieldValue).filter(([name]) => keep.has(name))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, docs]) => [name, normalizeDocs(docs, keep)]);
      return [field, subs];
    }
    return [field, fieldValue];
  });
}

// --- Servers ---------------------------------------------------------------------------------

interface Side {
  server: ServerProcess | undefined;
  resp2: RespClient | undefined;
  resp3: RespClient | undefined;
}

const ring: Side = { server: undefined, resp2: undefined, resp3: undefined };
const redis: Side = { server: undefined, resp2: undefined, resp3: undefined };

async function connect(side: Side, server: ServerProcess): Promise<void> {
  side.server = server;
  side.resp2 = await RespClient.connect(server.port);
  side.resp3 = await RespClient.connect(server.port);
  assert.ok((await side.resp3.call('HELLO', '3')).startsWith('%'));
}

async function disconnect(side: Side): Promise<void> {
  side.resp2?.close();
  side.resp3?.close();
  await side.server?.stop();
  side.server?.cleanup();
}

function client(side: Side, protocol: 2 | 3): RespClient {
  const connection = protocol === 2 ? side.resp2 : side.resp3;
  assert.ok(connection !== undefined, 'not connected');
  return connection;
}

async function bulkList(side: Side, ...args: string[]): Promise<string[]> {
  return itemsOf(parse(await client(side, 2).call(...args))).map(textOf);
}

/** Our command and subcommand names, and the ones redis-server knows too. */
let ourNames: string[] = [];
let sharedNames: string[] = [];
let sharedSet: ReadonlySet<string> = new Set();

const PROTOCOLS: ReadonlyArray<2 | 3> = [2, 3];

describe('COMMAND against redis-server 7.0.15', { skip }, () => {
  before(async () => {
    await connect(ring, await startNode());
    await connect(redis, await startRedis());
    ourNames = await bulkList(ring, 'COMMAND', 'LIST');
    const redisNames = new Set(await bulkList(redis, 'COMMAND', 'LIST'));
    sharedNames = ourNames.filter((name) => redisNames.has(name));
    sharedSet = new Set(sharedNames);
  });

  after(async () => {
    await disconnect(ring);
    await disconnect(redis);
  });

  test('we implement the commands we expect Redis to know', () => {
    const ringOnly = ourNames.filter((name) => !sharedSet.has(name)).sort();
    // Redis 7.2 additions that 7.0.15 lacks, and RingKV's own commands.
    assert.deepEqual(ringOnly, ['client|no-touch', 'client|setinfo', 'cluster|leave',
      'cluster|preflist', 'cluster|repair', 'cluster|ring', 'consistency']);
  });

  for (const protocol of PROTOCOLS) {
    test(`COMMAND INFO entries equal Redis's bytes (RESP${protocol})`, async () => {
      await compareInfo(protocol);
    });
    test(`COMMAND DOCS has Redis's structure (RESP${protocol})`, async () => {
      await compareDocs(protocol);
    });
    test(`GETKEYS, GETKEYSANDFLAGS and errors equal Redis's bytes (RESP${protocol})`,
      async () => {
        await compareCalls(protocol, GETKEYS_CASES.concat(ERROR_CASES));
      });
    test(`COMMAND lists every command once, as go-redis reads it (RESP${protocol})`,
      async () => {
        await checkCommandAll(protocol);
      });
  }

  test('COMMAND LIST filters select the names Redis selects', async () => {
    for (const filter of LIST_FILTERS) {
      // Restricted to the commands both servers implement.
      const ours = (await bulkList(ring, 'COMMAND', 'LIST', ...filter))
        .filter((name) => sharedSet.has(name)).sort();
      const theirs = (await bulkList(redis, 'COMMAND', 'LIST', ...filter))
        .filter((name) => sharedSet.has(name)).sort();
      assert.deepEqual(ours, theirs, `COMMAND LIST ${filter.join(' ')}`);
    }
  });

  test('COMMAND HELP is an array of status lines', async () => {
    const help = parse(await client(ring, 2).call('COMMAND', 'HELP'));
    const lines = itemsOf(help);
    assert.ok(lines.length > 4);
    for (const line of lines) assert.equal(line.kind, 'simple');
    assert.match(textOf(lines[0] as Resp), /^COMMAND <subcommand>/);
  });

  test('redis-cli builds the same help lines from our COMMAND DOCS', {
    skip: scriptAvailable() ? false : 'script(1) or redis-cli is not installed',
  }, async () => {
    const commands = sharedNames.filter((name) => !containerNames().has(name))
      .map((name) => name.replace('|', ' '));
    const ours = await redisCliHelp(serverPort(ring), commands);
    const theirs = await redisCliHelp(serverPort(redis), commands);
    assert.equal(ours.length, commands.length);
    assert.deepEqual(ours, theirs);
  });
});

// --- COMMAND INFO ------------------------------------------------------------------------

/** Top-level commands that have subcommands (from our own COMMAND LIST). */
function containerNames(): ReadonlySet<string> {
  return new Set(ourNames.filter((name) => name.includes('|'))
    .map((name) => name.split('|')[0] as string));
}

async function compareInfo(protocol: 2 | 3): Promise<void> {
  const names = [...sharedNames, 'nosuch', 'get|x', 'client|list|x', 'CLIENT|LIST'];
  const ours = elements(await client(ring, protocol).call('COMMAND', 'INFO', ...names));
  const theirs = elements(await client(redis, protocol).call('COMMAND', 'INFO', ...names));
  assert.equal(ours.length, names.length);
  const containers = containerNames();
  names.forEach((name, index) => {
    const mine = ours[index] as string;
    const reference = theirs[index] as string;
    if (!containers.has(name)) {
      assert.equal(maskNotes(mine), maskNotes(reference), `COMMAND INFO ${name}`);
      return;
    }
    // Redis implements subcommands we do not and lists them in hash order: compare the
    // first nine fields here; each subcommand entry is compared under its own name.
    assert.deepEqual(elements(mine).slice(0, 9), elements(reference).slice(0, 9), name);
  });
  await checkSubcommandEntries(protocol, containers);
}

/** A container's subcommand list holds exactly our subcommands' own COMMAND INFO entries. */
async function checkSubcommandEntries(protocol: 2 | 3,
    containers: ReadonlySet<string>): Promise<void> {
  for (const container of containers) {
    const subNames = ourNames.filter((name) => name.startsWith(`${container}|`));
    const [entry] = elements(await client(ring, protocol).call('COMMAND', 'INFO', container));
    const listed = elements(elements(entry as string)[9] as string);
    const own = elements(await client(ring, protocol).call('COMMAND', 'INFO', ...subNames));
    assert.deepEqual(listed, own, `subcommands of ${container}`);
  }
}

// --- COMMAND DOCS -------------------------------------------------------------------------

async function compareDocs(protocol: 2 | 3): Promise<void> {
  const names = [...sharedNames, 'nosuch', 'client|list|x'];
  const ours = pairsOf(parse(await client(ring, protocol).call('COMMAND', 'DOCS', ...names)));
  const theirs = pairsOf(parse(await client(redis, protocol).call('COMMAND', 'DOCS',
    ...names)));
  assert.deepEqual(ours.map(([name]) => name), sharedNames);
  assert.deepEqual(theirs.map(([name]) => name), sharedNames);
  ours.forEach(([name, docs], index) => {
    const reference = (theirs[index] as [string, Resp])[1];
    assert.deepEqual(normalizeDocs(docs, sharedSet), normalizeDocs(reference, sharedSet),
      `COMMAND DOCS ${name}`);
    const summary = pairsOf(docs).find(([field]) => field === 'summary');
    assert.ok(summary !== undefined && textOf(summary[1]).length > 0, `${name} summary`);
  });
  const all = pairsOf(parse(await client(ring, protocol).call('COMMAND', 'DOCS')));
  assert.deepEqual(all.map(([name]) => name), ourNames.filter((name) => !name.includes('|')));
}

// --- GETKEYS, errors -----------------------------------------------------------------------

const GETKEYS_CASES: readonly string[][] = [
  ['COMMAND', 'GETKEYS', 'get', 'a'],
  ['COMMAND', 'GETKEYS', 'GET', 'a'],
  ['COMMAND', 'GETKEYS', 'mget', 'a', 'b', 'c'],
  ['COMMAND', 'GETKEYS', 'mset', 'a', '1', 'b', '2'],
  ['COMMAND', 'GETKEYS', 'mset', 'a', 'b', 'c'],
  ['COMMAND', 'GETKEYS', 'msetnx', 'a', '1', 'b', '2'],
  ['COMMAND', 'GETKEYS', 'expire', 'a', '10', 'NX'],
  ['COMMAND', 'GETKEYS', 'copy', 'a', 'b', 'DB', '1', 'REPLACE'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'b'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'b', 'GET'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'b', 'get', 'EX', '1'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'set', 'a', 'get'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'getex', 'a', 'PERSIST'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'rename', 'a', 'b'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'renamenx', 'a', 'b'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'mset', 'a', '1', 'b', '2'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'del', 'a', 'b', 'c'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'incrbyfloat', 'a', '1.5'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'append', 'a', 'b'],
];

const ERROR_CASES: readonly string[][] = [
  ['COMMAND', 'GETKEYS', 'nosuch', 'a'],
  ['COMMAND', 'GETKEYS', 'ping', 'a'],
  ['COMMAND', 'GETKEYS', 'keys', '*'],
  ['COMMAND', 'GETKEYS', 'get', 'a', 'b'],
  ['COMMAND', 'GETKEYS', 'client', 'nosuch'],
  ['COMMAND', 'GETKEYS', 'client', 'list'],
  ['COMMAND', 'GETKEYS', 'config', 'get', 'x'],
  ['COMMAND', 'GETKEYS', 'get'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'nosuch', 'a'],
  ['COMMAND', 'GETKEYSANDFLAGS', 'get', 'a', 'b'],
  ['COMMAND', 'nosuch'],
  ['COMMAND', 'nosuch', 'x'],
  ['COMMAND', 'COUNT', 'x'],
  ['COMMAND', 'HELP', 'x'],
  ['COMMAND', 'LIST', 'x'],
  ['COMMAND', 'LIST', 'FILTERBY'],
  ['COMMAND', 'LIST', 'FILTERBY', 'nosuch', 'x'],
  ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'x', 'y'],
  ['COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'],
  ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'nosuch'],
  ['COMMAND', 'INFO', 'nosuch'],
  ['COMMAND', 'DOCS', 'nosuch'],
];

async function compareCalls(protocol: 2 | 3, cases: readonly string[][]): Promise<void> {
  const differences: string[] = [];
  for (const args of cases) {
    const ours = await client(ring, protocol).call(...args);
    const theirs = await client(redis, protocol).call(...args);
    if (ours !== theirs) {
      differences.push(`${args.join(' ')}\n  ours:  ${JSON.stringify(ours)}\n` +
        `  redis: ${JSON.stringify(theirs)}`);
    }
  }
  assert.deepEqual(differences, []);
}

const LIST_FILTERS: readonly string[][] = [
  [],
  ...['keyspace', 'read', 'write', 'string', 'admin', 'fast', 'slow', 'dangerous',
    'connection', 'Connection'].map((category) => ['FILTERBY', 'ACLCAT', category]),
  ...['*', 'client|*', 'c*', '*e*', '[gs]et', 'GET*', 'config|?et']
    .map((pattern) => ['FILTERBY', 'PATTERN', pattern]),
  ['FILTERBY', 'MODULE', 'ringkv'],
];

// --- COMMAND (all): the go-redis view -------------------------------------------------------

/** go-redis reads name, arity, flags, first, last, step from each 10-field entry. */
async function checkCommandAll(protocol: 2 | 3): Promise<void> {
  const raw = await client(ring, protocol).call('COMMAND');
  const entries = itemsOf(parse(raw));
  const count = parse(await client(ring, protocol).call('COMMAND', 'COUNT'));
  assert.deepEqual(count, { kind: 'integer', value: entries.length });
  const names = entries.map((entry) => {
    const fields = itemsOf(entry);
    assert.equal(entry.kind, 'array');
    assert.equal(fields.length, 10);
    const [name, arity, flags, first, last, step] = fields as [Resp, Resp, Resp, Resp, Resp,
      Resp];
    for (const field of [arity, first, last, step]) assert.equal(field.kind, 'integer');
    for (const flag of itemsOf(flags)) assert.equal(flag.kind, 'simple');
    return textOf(name);
  });
  assert.deepEqual(names, ourNames.filter((name) => !name.includes('|')));
  // Each entry is what COMMAND INFO says about that command.
  assert.deepEqual(elements(raw), elements(await client(ring, protocol).call('COMMAND',
    'INFO', ...names)));
  assert.deepEqual(elements(raw), elements(await client(ring, protocol).call('COMMAND',
    'INFO')));
}

// --- redis-cli, interactive ------------------------------------------------------------------

function scriptAvailable(): boolean {
  return spawnSync('script', ['--version']).status === 0 &&
    spawnSync('redis-cli', ['--version']).status === 0;
}

function serverPort(side: Side): number {
  assert.ok(side.server !== undefined, 'not started');
  return side.server.port;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * Runs interactive redis-cli in a pseudo-terminal (script(1)), so that it loads COMMAND
 * DOCS as it does for a person, asks `help <command>` for each command and returns the
 * syntax line printed for each (built from the argument specs). Input is typed only after
 * a fresh prompt: linenoise flushes pending input when it enters raw mode.
 */
async function redisCliHelp(port: number, commands: readonly string[]): Promise<string[]> {
  const child = spawn('script', ['-qec', `stty cols 400 rows 50; redis-cli -p ${port}`,
    '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('latin1');
  });
  const prompt = `127.0.0.1:${port}> `;
  const text = (): string => output.replace(ANSI, '').replace(/\r/g, '');
  const atPrompt = (): boolean => text().endsWith(prompt);
  try {
    await waitFor('the redis-cli prompt', () => (atPrompt() ? true : undefined));
    for (const [index, command] of commands.entries()) {
      child.stdin.write(`help ${command}\r`);
      await waitFor(`redis-cli help for ${command}`, () => {
        const groups = text().split('\n  group: ').length - 1;
        return groups > index && atPrompt() ? true : undefined;
      });
    }
    child.stdin.write('quit\r');
    await waitFor('redis-cli to exit', () => (child.exitCode !== null ? true : undefined));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  const lines = text().split('\n');
  return lines.filter((line, index) => line.startsWith('  ') &&
    (lines[index + 1] ?? '').startsWith('  summary: ')).map((line) => line.trim());
}
