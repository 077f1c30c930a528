/**
 * Differential testing: the same script of requests goes to a reference redis-server and to
 * a RingKV node, each on a fresh connection, and the raw reply bytes and the connection
 * state (open or closed by the server) are compared step by step. A failure lists every
 * step that differs, with both servers' bytes, so one run shows all the discrepancies.
 */
import assert from 'node:assert/strict';
import { encodeCommand, RespClient } from './resp-client.js';
import { startNode, startRedis, type ServerProcess } from './processes.js';

/** One thing a script sends, and how many replies it waits for. */
export interface Step {
  readonly label: string;
  readonly bytes: Buffer;
  /** Replies expected; the step also ends early when the server closes the connection. */
  readonly replies: number;
  /** Connection index within the script (0 unless several clients take part). */
  readonly connection: number;
  /** Rewrites the non-deterministic parts of each reply before comparison. */
  readonly mask?: (reply: string) => string;
}

export interface StepOptions {
  replies?: number;
  connection?: number;
  mask?: (reply: string) => string;
}

/** What one server answered to one step. */
export interface StepResult {
  readonly label: string;
  readonly replies: string[];
  /** True when the server closed the connection before sending every expected reply. */
  readonly closed: boolean;
  /** Bytes received after the last complete reply (an incomplete reply, or garbage). */
  readonly rest: string;
}

/** The end of a script: how each connection answers a final PING, or that it is closed. */
export interface Transcript {
  readonly steps: StepResult[];
  readonly ends: string[];
}

const STEP_TIMEOUT_MS = 5000;
/** A connection that neither answers nor closes within this is recorded as "silent". */
const END_PROBE_TIMEOUT_MS = 1000;
const POLL_MS = 25;
/** FLUSHALL waits until the flush is durable, which takes RingKV seconds (see the report). */
const FLUSH_TIMEOUT_MS = 120_000;

function describe(args: ReadonlyArray<string | Buffer>): string {
  return args.map((arg) => {
    const text = typeof arg === 'string' ? arg : arg.toString('latin1');
    return text.length > 40 ? `${JSON.stringify(text.slice(0, 40))}…(${text.length})`
      : JSON.stringify(text);
  }).join(' ');
}

/** A command sent as a RESP multibulk request, waiting for one reply. */
export function cmd(...args: Array<string | Buffer>): Step {
  return { label: describe(args), bytes: encodeCommand(args), replies: 1, connection: 0 };
}

/** A command with options (reply count, connection, mask). */
export function cmdWith(options: StepOptions, ...args: Array<string | Buffer>): Step {
  return withOptions({ label: describe(args), bytes: encodeCommand(args), replies: 1,
    connection: 0 }, options);
}

/**
 * Raw bytes sent as they are (protocol edge cases, inline commands); a string is taken one
 * byte per character (latin1), so '\xff' is the byte 0xff.
 */
export function raw(bytes: string | Buffer, options: StepOptions = {}): Step {
  const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const shown = buffer.length > 60
    ? `${JSON.stringify(buffer.subarray(0, 60).toString('latin1'))}…(${buffer.length} bytes)`
    : JSON.stringify(buffer.toString('latin1'));
  return withOptions({ label: `raw ${shown}`, bytes: buffer, replies: 1, connection: 0 },
    options);
}

function withOptions(step: Step, options: StepOptions): Step {
  const result: Step = {
    ...step,
    replies: options.replies ?? step.replies,
    connection: options.connection ?? step.connection,
  };
  return options.mask === undefined ? result : { ...result, mask: options.mask };
}

/** Runs `step` on another connection of the script. */
export function on(connection: number, step: Step): Step {
  return { ...step, connection };
}

/** Masks that make non-deterministic replies comparable. */
export const masks = {
  /** Any integer reply becomes `:<int>`. */
  anyInteger: (reply: string): string => reply.replace(/^:-?\d+\r\n$/, ':<int>\r\n'),
  /** An integer reply within [min, max] becomes `:<in range>`. */
  integerIn(min: number, max: number): (reply: string) => string {
    return (reply) => {
      const match = /^:(-?\d+)\r\n$/.exec(reply);
      if (match === null) return reply;
      const value = Number(match[1]);
      return value >= min && value <= max ? ':<in range>\r\n' : reply;
    };
  },
  /** The `id` field of a HELLO reply (RESP2 or RESP3). */
  helloId: (reply: string): string => reply.replace(/(\$2\r\nid\r\n):\d+\r\n/, '$1:<id>\r\n'),
};

/** The connections of one script on one server. */
class ScriptConnections {
  private readonly clients = new Map<number, RespClient>();

  constructor(private readonly port: number) {}

  async get(index: number): Promise<RespClient> {
    let client = this.clients.get(index);
    if (client === undefined) {
      client = await RespClient.connect(this.port);
      this.clients.set(index, client);
    }
    return client;
  }

  indexes(): number[] {
    return [...this.clients.keys()].sort((a, b) => a - b);
  }

  closeAll(): void {
    for (const client of this.clients.values()) client.close();
  }
}

/**
 * Collects up to `count` replies; stops early when `stop` says so, when the server closes
 * the connection, or at the deadline.
 */
async function collect(client: RespClient, count: number, timeoutMs: number,
    stop: (reply: string) => boolean = () => false): Promise<StepResult> {
  const replies: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (replies.length < count && Date.now() < deadline) {
    try {
      const [reply] = await client.replies(1, POLL_MS);
      const text = (reply as Buffer).toString('latin1');
      replies.push(text);
      if (stop(text)) break;
    } catch {
      if (client.isClosed) {
        const rest = await client.closedByServer(POLL_MS);
        return { label: '', replies, closed: true, rest: rest.toString('latin1') };
      }
    }
  }
  // Whether a server closes right after its last expected reply is a race to observe here;
  // the next step (no replies, closed) or the end probe records it deterministically.
  return { label: '', replies, closed: false, rest: '' };
}

const PROBE = 'differential-end-probe';
/** The `rest` of a step that was not sent because its connection was already closed. */
const NOT_SENT = '(not sent)';

/** Runs a script on one server; a closed connection skips its remaining steps. */
export async function runScript(port: number, steps: readonly Step[]): Promise<Transcript> {
  const connections = new ScriptConnections(port);
  try {
    const results: StepResult[] = [];
    const closed = new Set<number>();
    for (const step of steps) {
      if (closed.has(step.connection)) {
        results.push({ label: step.label, replies: [], closed: true, rest: NOT_SENT });
        continue;
      }
      const client = await connections.get(step.connection);
      client.write(step.bytes);
      const result = await collect(client, step.replies,
        step.replies === 0 ? POLL_MS * 2 : STEP_TIMEOUT_MS);
      const mask = step.mask;
      const replies = mask === undefined ? result.replies : result.replies.map(mask);
      results.push({ ...result, label: step.label, replies });
      if (result.closed) closed.add(step.connection);
    }
    const ends: string[] = [];
    for (const index of connections.indexes()) {
      ends.push(await endState(await connections.get(index), closed.has(index)));
    }
    return { steps: results, ends };
  } finally {
    connections.closeAll();
  }
}

/** Sends PING <probe> and records every reply up to its answer, or that the server closed. */
async function endState(client: RespClient, closed: boolean): Promise<string> {
  if (closed || client.isClosed) return 'closed';
  client.send('PING', PROBE);
  const probeReply = `$${PROBE.length}\r\n${PROBE}\r\n`;
  const result = await collect(client, 100, END_PROBE_TIMEOUT_MS,
    (reply) => reply === probeReply || reply.startsWith('-NOAUTH'));
  const last = result.replies[result.replies.length - 1];
  const answered = last === probeReply || (last?.startsWith('-NOAUTH') ?? false);
  const extra = result.replies.slice(0, answered ? -1 : undefined);
  const state = result.closed ? 'closed' : answered ? 'open' : 'silent';
  return extra.length === 0 ? state : `${state} after extra replies ${JSON.stringify(extra)}`;
}

function show(result: StepResult | undefined): string {
  if (result === undefined) return '(missing)';
  const replies = JSON.stringify(result.replies);
  const rest = result.rest === '' ? '' : ` rest=${JSON.stringify(result.rest)}`;
  return `${replies}${result.closed ? ' [closed]' : ''}${rest}`;
}

/** Every difference between two transcripts, one readable paragraph each. */
export function differences(expected: Transcript, actual: Transcript): string[] {
  const found: string[] = [];
  const count = Math.max(expected.steps.length, actual.steps.length);
  for (let index = 0; index < count; index++) {
    const redis = expected.steps[index];
    const ours = actual.steps[index];
    if (show(redis) === show(ours)) continue;
    found.push(`step ${index + 1}: ${redis?.label ?? ours?.label}\n` +
      `    redis : ${show(redis)}\n    ringkv: ${show(ours)}`);
  }
  if (JSON.stringify(expected.ends) !== JSON.stringify(actual.ends)) {
    found.push(`end of script\n    redis : ${JSON.stringify(expected.ends)}\n` +
      `    ringkv: ${JSON.stringify(actual.ends)}`);
  }
  return found;
}

/**
 * A redis-server and a RingKV node started with the same extra arguments. One pair per
 * test file; every script starts from empty databases on fresh connections.
 */
export class DifferentialPair {
  private redis: ServerProcess | null = null;
  private node: ServerProcess | null = null;

  /** `password`: set as requirepass on both servers once they run. */
  constructor(private readonly args: readonly string[] = [],
      private readonly password: string | null = null) {}

  async start(): Promise<void> {
    const [redis, node] = await Promise.allSettled([
      startRedis([...this.args]),
      startNode({ args: [...this.args] }),
    ]);
    // Keep whichever started, so stop() ends it even when the other failed to start.
    if (redis.status === 'fulfilled') this.redis = redis.value;
    if (node.status === 'fulfilled') this.node = node.value;
    if (redis.status === 'rejected') throw redis.reason;
    if (node.status === 'rejected') throw node.reason;
    // The start helpers wait for +PONG, which a password-protected server never sends to
    // an unauthenticated PING: the password is set once both are up.
    if (this.password !== null) {
      await Promise.all([this.requirePassword(this.redisPort),
        this.requirePassword(this.nodePort)]);
    }
  }

  private async requirePassword(port: number): Promise<void> {
    const client = await RespClient.connect(port);
    try {
      const reply = await client.call('CONFIG', 'SET', 'requirepass', this.password as string);
      assert.equal(reply, '+OK\r\n');
    } finally {
      client.close();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.redis?.stop(), this.node?.stop()]);
    this.redis?.cleanup();
    this.node?.cleanup();
  }

  get redisPort(): number {
    return (this.redis as ServerProcess).port;
  }

  get nodePort(): number {
    return (this.node as ServerProcess).port;
  }

  /** Runs the script on both servers and fails listing every step that differs. */
  async check(steps: readonly Step[]): Promise<void> {
    await Promise.all([this.flush(this.redisPort), this.flush(this.nodePort)]);
    const [expected, actual] = await Promise.all([
      runScript(this.redisPort, steps),
      runScript(this.nodePort, steps),
    ]);
    const unsent = expected.steps.findIndex((step) => step.rest === NOT_SENT);
    if (unsent !== -1) {
      assert.fail(`script mistake: redis-server closed the connection before step ${unsent + 1}` +
        ` (${expected.steps[unsent]?.label ?? ''}); end the script there`);
    }
    const found = differences(expected, actual);
    if (found.length > 0) {
      assert.fail(`${found.length} difference(s) from redis-server:\n${found.join('\n')}`);
    }
  }

  /** Runs a script on one side only, for intentional differences asserted separately. */
  async run(side: 'redis' | 'ringkv', steps: readonly Step[]): Promise<Transcript> {
    const port = side === 'redis' ? this.redisPort : this.nodePort;
    await this.flush(port);
    return await runScript(port, steps);
  }

  private async flush(port: number): Promise<void> {
    const client = await RespClient.connect(port);
    try {
      if (this.password !== null) {
        assert.equal(await client.call('AUTH', this.password), '+OK\r\n');
      }
      client.send('FLUSHALL');
      const [reply] = await client.replies(1, FLUSH_TIMEOUT_MS);
      assert.equal((reply as Buffer).toString('latin1'), '+OK\r\n');
    } finally {
      client.close();
    }
  }
}

/** The replies of every step, flattened, for assertions on one side's transcript. */
export function repliesOf(transcript: Transcript): string[] {
  return transcript.steps.flatMap((step) => step.replies);
}
