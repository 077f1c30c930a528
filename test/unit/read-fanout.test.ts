/**
 * Which replicas a coordinated read asks (DistributedOperation, no sockets): R of them,
 * this node first; another one for each that fails; every one after `speculate` (the
 * speculative retry) or when the read-repair chance says so. Read repair covers the
 * replicas asked, and the operation ends once every replica asked has answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DistributedOperation, type KeyPlan, type OperationContext,
} from '../../src/coordinator/distributed-operation.js';
import type {
  KeyOperation, LiveValue, ReplyTarget,
} from '../../src/coordinator/key-value-service.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { encodeRecord, StoredRecord, ValueType } from '../../src/storage/record.js';

const SELF = 'a';

function record(physicalMs: number, value: string): StoredRecord {
  return new StoredRecord(encodeRecord({ version: { physicalMs, logical: 0, nodeTag: 1 },
    tombstone: false, type: ValueType.String, expireAtMs: 0, value: Buffer.from(value),
    fullKey: null }));
}

interface Sent {
  replica: string;
  command: string;
  callback: (error: Error | null, reply: unknown) => void;
}

function harness(options: { replicas?: string[]; readRequired?: number; readAll?: boolean;
    local?: StoredRecord | null; failAtOnce?: readonly string[] } = {}) {
  const sent: Sent[] = [];
  const writtenLocally: StoredRecord[] = [];
  let finished = false;
  const context: OperationContext = {
    selfId: SELF,
    replicationFactor: 3,
    isDown: () => false,
    readLocal: () => options.local ?? null,
    writeLocal: (_plan, written) => {
      writtenLocally.push(written);
    },
    sendToPeer: (replica, args, callback) => {
      sent.push({ replica, command: String(args[0]), callback });
      // A link that refuses at once (no connection, too many in flight) calls back inside.
      if (options.failAtOnce?.includes(replica)) callback(new Error('refused'), null);
    },
    recordFor: () => record(1, 'x'),
    nowMs: () => 1000,
    finished: () => {
      finished = true;
    },
    replied: () => undefined,
    countReadRepair: () => undefined,
    readAll: () => options.readAll ?? false,
    hint: () => false,
  };
  const writer = new ReplyWriter();
  let filled = false;
  const target = {
    writer,
    consistency: { read: 2, write: 2 },
    durable: () => undefined,
    hold: () => null,
    defer: () => 'slot',
    deferredWriter: () => writer,
    fill: () => {
      filled = true;
    },
  } as unknown as ReplyTarget;
  let seen: LiveValue | undefined;
  const operation: KeyOperation = {
    keys: [Buffer.from('k')],
    keyDatabases: null,
    readsValues: true,
    apply: (values) => {
      seen = values[0];
      return [null];
    },
    reply: (out) => out.ok(),
  };
  const replicas = options.replicas ?? ['b', SELF, 'c'];
  const plan: KeyPlan = { key: Buffer.from('k'), db: 0, slot: 1, replicas,
    readRequired: options.readRequired ?? 2, writeRequired: 2, sloppy: false };
  const distributed = new DistributedOperation(context, target, operation, [plan]);
  return {
    distributed, sent, writtenLocally,
    get filled() { return filled; },
    get finished() { return finished; },
    get seen() { return seen; },
    reads: () => sent.filter((entry) => entry.command === 'PEER.GET')
      .map((entry) => entry.replica),
    answer: (replica: string, error: Error | null, reply: unknown) => {
      const entry = sent.find((candidate) => candidate.replica === replica &&
        candidate.command === 'PEER.GET');
      assert.ok(entry !== undefined, `a read was sent to ${replica}`);
      entry.callback(error, reply);
    },
  };
}

test('a QUORUM read asks this node and one peer, and ends with their answers', () => {
  const run = harness({ local: record(5, 'local') });
  run.distributed.start();
  assert.deepEqual(run.reads(), ['b']);
  assert.equal(run.filled, false);
  run.answer('b', null, record(7, 'newer').bytes);
  assert.equal(run.filled, true);
  assert.equal(run.seen?.value.toString(), 'newer');
  // This node answered the older record: read repair writes the newest back to it.
  assert.equal(run.writtenLocally.length, 1);
  assert.equal(run.writtenLocally[0]?.value.toString(), 'newer');
  assert.equal(run.finished, true);
});

test('a replica that fails is replaced by the next one', () => {
  const run = harness();
  run.distributed.start();
  run.answer('b', new Error('link down'), null);
  assert.deepEqual(run.reads(), ['b', 'c']);
  assert.equal(run.filled, false);
  run.answer('c', null, null);
  assert.equal(run.filled, true);
  assert.equal(run.finished, true);
});

test('the speculative retry asks every replica not asked yet', () => {
  const run = harness();
  run.distributed.start();
  assert.deepEqual(run.reads(), ['b']);
  run.distributed.speculate();
  assert.deepEqual(run.reads(), ['b', 'c']);
  run.answer('c', null, null);
  assert.equal(run.filled, true);
  // Replied, but 'b' was asked and has not answered: the operation waits for it (repair).
  assert.equal(run.finished, false);
  run.answer('b', null, null);
  assert.equal(run.finished, true);
  // Nothing more once the quorum is met.
  run.distributed.speculate();
  assert.deepEqual(run.reads(), ['b', 'c']);
});

test('the read-repair chance asks every replica', () => {
  const run = harness({ readAll: true });
  run.distributed.start();
  assert.deepEqual(run.reads(), ['b', 'c']);
});

test('a coordinator outside the preference list asks R replicas in preference order', () => {
  const run = harness({ replicas: ['b', 'c', 'd'] });
  run.distributed.start();
  assert.deepEqual(run.reads(), ['b', 'c']);
  run.answer('b', null, null);
  run.answer('c', null, null);
  assert.equal(run.filled, true);
  assert.equal(run.finished, true);
});

test('ALL asks everyone; a read that cannot reach R fails once every replica asked failed', () => {
  const run = harness({ readRequired: 3 });
  run.distributed.start();
  assert.deepEqual(run.reads(), ['b', 'c']);
  run.answer('b', new Error('down'), null);
  assert.equal(run.filled, false);
  run.answer('c', null, null);
  assert.equal(run.filled, true);
});

test('a replica that fails inside the send is replaced once, not asked twice', () => {
  const run = harness({ replicas: ['b', 'c', 'd'], failAtOnce: ['b'] });
  run.distributed.start();
  assert.deepEqual(run.reads(), ['b', 'c', 'd']);
  run.answer('c', null, null);
  run.answer('d', null, null);
  assert.equal(run.filled, true);
  assert.equal(run.finished, true);
});
