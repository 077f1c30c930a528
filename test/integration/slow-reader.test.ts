/**
 * A client that pipelines 50,000 GETs of 100 KB values (5 GB of replies) and does not read:
 * the node must stop reading from it instead of buffering gigabytes, stay responsive to
 * other clients, and deliver every reply, in order, once the client reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import {
  connectIoredis, infoField, parseInfo, rawSocket, type TestRedis,
} from '../helpers/clients.js';
import { startNode, type ServerProcess } from '../helpers/processes.js';
import { encodeCommand } from '../helpers/resp-client.js';
import { waitFor } from '../helpers/wait.js';

const GETS = 50_000;
const VALUE_BYTES = 100 * 1024;
/** Distinct values for the known-bug test, and how many GETs it pipelines. */
const KEYS = 10;
const DISTINCT_GETS = 200;
/** Every MARKER_EVERY-th request is an ECHO whose reply marks its position. */
const MARKER_EVERY = 1000;
/** The node's RSS while the reader is stuck must stay below this. */
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;
/** Reply bytes held for the reader that show it is stuck (the node pauses at 4 MB). */
const STUCK_OUTPUT_BYTES = 1024 * 1024;
/** INFO samples taken while the reader is stuck. */
const STALLED_SAMPLES = 10;

let node: ServerProcess;
let observer: TestRedis;
let reader: Socket | undefined;
/** GET replies of the stuck reader whose value bytes were wrong (see the known bug). */
let corruptedWhileStuck = 0;

before(async () => {
  node = await startNode();
  observer = await connectIoredis(node.port);
});

after(async () => {
  reader?.destroy();
  observer?.disconnect();
  await node?.stop();
  node?.cleanup();
});

function valueOf(key: number): Buffer {
  const value = Buffer.alloc(VALUE_BYTES);
  for (let offset = 0; offset < VALUE_BYTES; offset += 4) {
    value.writeUInt32LE((key * 0x01000193 + offset) >>> 0, offset);
  }
  return value;
}

/** One expected reply; bytes in [bodyStart, bodyEnd) are the value of a GET. */
interface ExpectedReply {
  bytes: Buffer;
  bodyStart: number;
  bodyEnd: number;
}

/**
 * Checks a reply stream against the expected replies chunk by chunk, without copying.
 * Framing (headers, CRLF, small replies) must match exactly; with `tolerateBodies` a wrong
 * value is only counted (a separate test pins that known bug), otherwise it fails.
 */
class ReplyStreamChecker {
  replies = 0;
  corruptedBodies = 0;
  failure: string | null = null;
  private offset = 0;
  private currentCorrupted = false;

  constructor(private readonly expected: (index: number) => ExpectedReply,
      private readonly tolerateBodies: boolean) {}

  push(chunk: Buffer): void {
    let position = 0;
    while (position < chunk.length && this.failure === null) {
      const reply = this.expected(this.replies);
      const inBody = this.offset >= reply.bodyStart && this.offset < reply.bodyEnd;
      const limit = this.offset < reply.bodyStart ? reply.bodyStart
        : inBody ? reply.bodyEnd : reply.bytes.length;
      const length = Math.min(limit - this.offset, chunk.length - position);
      const got = chunk.subarray(position, position + length);
      const want = reply.bytes.subarray(this.offset, this.offset + length);
      if (!got.equals(want)) {
        if (!inBody || !this.tolerateBodies) {
          this.failure = `reply ${this.replies} differs at byte ${this.offset}: got ` +
            `${JSON.stringify(got.subarray(0, 24).toString('latin1'))}, expected ` +
            `${JSON.stringify(want.subarray(0, 24).toString('latin1'))}`;
          return;
        }
        if (!this.currentCorrupted) this.corruptedBodies++;
        this.currentCorrupted = true;
      }
      position += length;
      this.offset += length;
      if (this.offset === reply.bytes.length) {
        this.replies++;
        this.offset = 0;
        this.currentCorrupted = false;
      }
    }
  }
}

function bulkReply(value: Buffer): ExpectedReply {
  const header = Buffer.from(`$${value.length}\r\n`);
  return {
    bytes: Buffer.concat([header, value, Buffer.from('\r\n')]),
    bodyStart: header.length,
    bodyEnd: header.length + value.length,
  };
}

/** A small reply that must match exactly (no tolerated part). */
function exactReply(value: Buffer): ExpectedReply {
  return { ...bulkReply(value), bodyStart: 0, bodyEnd: 0 };
}

async function rssBytes(): Promise<number> {
  return Number(infoField(parseInfo(await observer.info('memory')), 'used_memory_rss'));
}

/** Reads everything on `socket` through a checker until `count` replies or a mismatch. */
async function readAll(socket: Socket, checker: ReplyStreamChecker, count: number):
    Promise<void> {
  socket.on('data', (chunk: Buffer) => checker.push(chunk));
  socket.resume();
  // A wrong byte ends the wait at once (waitFor would retry a probe that throws).
  await waitFor(`all ${count} replies`, () =>
    checker.failure !== null || checker.replies >= count ? true : undefined, 120_000, 20);
  assert.equal(checker.failure, null);
  assert.equal(checker.replies, count);
}

// Every 1000th request is an ECHO of its index: the GETs all read one key (see the known
// bug below for distinct keys), so the markers are what shows replies stay in order.
test(`a reader that pipelines ${GETS} GETs of 100 KB and does not read`, async () => {
  const value = valueOf(1);
  await observer.set('slow:value', value);
  await observer.save();
  const getReply = bulkReply(value);
  const isMarker = (index: number): boolean => index % MARKER_EVERY === MARKER_EVERY - 1;
  const total = GETS + Math.floor(GETS / (MARKER_EVERY - 1));
  const requests: Buffer[] = [];
  for (let index = 0; index < total; index++) {
    requests.push(isMarker(index) ? encodeCommand(['ECHO', `marker-${index}`])
      : encodeCommand(['GET', 'slow:value']));
  }
  assert.equal(requests.length - Math.floor(total / MARKER_EVERY), GETS);
  const rssBefore = await rssBytes();

  const socket = await rawSocket(node.port);
  reader = socket;
  socket.pause();
  socket.write(Buffer.concat(requests));

  // Stuck: the node holds replies for this client and has stopped reading its requests.
  await waitFor('the node to hold replies for the stuck reader', async () => {
    const list = await observer.client('LIST') as string;
    const entry = list.split('\n').find((candidate) => / cmd=(get|echo) /.test(candidate));
    const held = Number(/ omem=(\d+) /.exec(entry ?? '')?.[1] ?? 0);
    return held >= STUCK_OUTPUT_BYTES ? true : undefined;
  }, 10_000, 20);
  let samples = 0;
  let rssMax = 0;
  const pings: string[] = [];
  await waitFor(`${STALLED_SAMPLES} INFO samples while the reader is stuck`, async () => {
    pings.push(await observer.ping());
    await observer.set('slow:other', String(samples));
    rssMax = Math.max(rssMax, await rssBytes());
    samples++;
    return samples >= STALLED_SAMPLES ? true : undefined;
  }, 20_000, 100);
  assert.deepEqual(pings, Array.from({ length: STALLED_SAMPLES }, () => 'PONG'));
  assert.ok(rssMax < RSS_LIMIT_BYTES,
    `RSS ${rssMax} bytes while stuck (it was ${rssBefore} before)`);

  const markerReplies = new Map<number, ExpectedReply>();
  const checker = new ReplyStreamChecker((index) => {
    if (!isMarker(index)) return getReply;
    let reply = markerReplies.get(index);
    if (reply === undefined) {
      reply = exactReply(Buffer.from(`marker-${index}`));
      markerReplies.set(index, reply);
    }
    return reply;
  }, true);
  await readAll(socket, checker, total);
  // Values overwritten while they waited are the known bug pinned by the next tests.
  corruptedWhileStuck = checker.corruptedBodies;
  // Sent replies are garbage once written; the node's heap gives them back when V8 next
  // collects, which on a loaded machine can be a moment after the last byte left.
  await waitFor('RSS to fall back under the limit once the reader caught up', async () =>
    (await rssBytes()) < RSS_LIMIT_BYTES ? true : undefined, 15_000, 100);
  assert.equal(await observer.get('slow:other'), String(samples - 1));
});

test('pipelined GETs of distinct 100 KB values each return their own value', async () => {
  const values = Array.from({ length: KEYS }, (_, key) => valueOf(key + 10));
  for (const [key, value] of values.entries()) await observer.set(`distinct:${key}`, value);
  await observer.save();
  const replies = values.map(bulkReply);
  const requests = Buffer.concat(Array.from({ length: DISTINCT_GETS }, (_, index) =>
    encodeCommand(['GET', `distinct:${index % KEYS}`])));
  const socket = await rawSocket(node.port);
  try {
    socket.write(requests);
    const checker = new ReplyStreamChecker((index) => replies[index % KEYS] as ExpectedReply,
      false);
    await readAll(socket, checker, DISTINCT_GETS);
  } finally {
    socket.destroy();
  }
});

test('replies held for a stuck reader keep their values while other clients read', async () => {
  assert.equal(corruptedWhileStuck, 0,
    `${corruptedWhileStuck} of the stuck reader's GET replies carried other bytes`);
});

