/**
 * Read and write quorum trackers: when a quorum is met or can no longer be met, which
 * answers count (each preference-list replica once), the newest record (last write wins,
 * tombstones included) and the stale replicas read repair must update.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReadQuorum, WriteQuorum } from '../../src/coordinator/quorum.js';
import { encodeRecord, StoredRecord, ValueType } from '../../src/storage/record.js';
import { AssertionError } from '../../src/util/assert.js';
import type { Version } from '../../src/versioning/version.js';

const REPLICAS = ['a', 'b', 'c'] as const;

function record(physicalMs: number, logical = 0, nodeTag = 1, tombstone = false): StoredRecord {
  return new StoredRecord(encodeRecord({
    version: { physicalMs, logical, nodeTag }, tombstone, type: ValueType.String,
    expireAtMs: 0, value: Buffer.from(tombstone ? '' : `value@${physicalMs}.${logical}`),
    fullKey: null,
  }));
}

type Event = readonly ['ack' | 'fail', string];

interface QuorumCase {
  name: string;
  replicas: readonly string[];
  required: number;
  events: readonly Event[];
  outcome: 'pending' | 'met' | 'impossible';
  successes: number;
  complete: boolean;
}

const CASES: QuorumCase[] = [
  { name: 'nothing yet', replicas: REPLICAS, required: 2, events: [],
    outcome: 'pending', successes: 0, complete: false },
  { name: 'one of two', replicas: REPLICAS, required: 2, events: [['ack', 'a']],
    outcome: 'pending', successes: 1, complete: false },
  { name: 'quorum', replicas: REPLICAS, required: 2, events: [['ack', 'a'], ['ack', 'c']],
    outcome: 'met', successes: 2, complete: false },
  { name: 'duplicates count once', replicas: REPLICAS, required: 2,
    events: [['ack', 'a'], ['ack', 'a'], ['ack', 'a']],
    outcome: 'pending', successes: 1, complete: false },
  { name: 'non-members do not count', replicas: REPLICAS, required: 2,
    events: [['ack', 'a'], ['ack', 'x'], ['ack', 'fallback'], ['fail', 'y']],
    outcome: 'pending', successes: 1, complete: false },
  { name: 'R = N needs every replica', replicas: REPLICAS, required: 3,
    events: [['ack', 'a'], ['ack', 'b']], outcome: 'pending', successes: 2, complete: false },
  { name: 'R = N met', replicas: REPLICAS, required: 3,
    events: [['ack', 'c'], ['ack', 'b'], ['ack', 'a']],
    outcome: 'met', successes: 3, complete: true },
  { name: 'R = N impossible after one failure', replicas: REPLICAS, required: 3,
    events: [['ack', 'a'], ['fail', 'b']], outcome: 'impossible', successes: 1, complete: false },
  { name: 'one failure leaves a quorum possible', replicas: REPLICAS, required: 2,
    events: [['fail', 'a']], outcome: 'pending', successes: 0, complete: false },
  { name: 'two failures of three make a quorum impossible', replicas: REPLICAS, required: 2,
    events: [['fail', 'a'], ['fail', 'b']], outcome: 'impossible', successes: 0,
    complete: false },
  { name: 'a repeated failure counts once', replicas: REPLICAS, required: 2,
    events: [['fail', 'a'], ['fail', 'a']], outcome: 'pending', successes: 0, complete: false },
  { name: 'a failure after an answer is ignored', replicas: REPLICAS, required: 2,
    events: [['ack', 'a'], ['fail', 'a'], ['fail', 'b']],
    outcome: 'pending', successes: 1, complete: false },
  { name: 'an answer after a failure (timeout) is not counted', replicas: REPLICAS, required: 2,
    events: [['fail', 'a'], ['ack', 'a'], ['ack', 'b']],
    outcome: 'pending', successes: 1, complete: false },
  { name: 'met stays met when the rest fail', replicas: REPLICAS, required: 1,
    events: [['ack', 'b'], ['fail', 'a'], ['fail', 'c']],
    outcome: 'met', successes: 1, complete: true },
  { name: 'all failed', replicas: REPLICAS, required: 1,
    events: [['fail', 'a'], ['fail', 'b'], ['fail', 'c']],
    outcome: 'impossible', successes: 0, complete: true },
  { name: 'more required than replicas is impossible at once', replicas: ['a', 'b'],
    required: 3, events: [], outcome: 'impossible', successes: 0, complete: false },
  { name: 'no replicas (empty ring)', replicas: [], required: 1, events: [],
    outcome: 'impossible', successes: 0, complete: true },
  { name: 'N = 1', replicas: ['a'], required: 1, events: [['ack', 'a']],
    outcome: 'met', successes: 1, complete: true },
];

test('write quorum: table of outcomes', () => {
  for (const entry of CASES) {
    const quorum = new WriteQuorum(entry.replicas, entry.required);
    for (const [kind, replica] of entry.events) {
      if (kind === 'ack') quorum.ack(replica);
      else quorum.fail(replica);
    }
    assert.equal(quorum.outcome, entry.outcome, entry.name);
    assert.equal(quorum.successes, entry.successes, entry.name);
    assert.equal(quorum.complete, entry.complete, entry.name);
  }
});

test('read quorum: the same table, answering with records', () => {
  for (const entry of CASES) {
    const quorum = new ReadQuorum(entry.replicas, entry.required);
    for (const [kind, replica] of entry.events) {
      if (kind === 'ack') quorum.respond(replica, record(1000));
      else quorum.fail(replica);
    }
    assert.equal(quorum.outcome, entry.outcome, entry.name);
    assert.equal(quorum.successes, entry.successes, entry.name);
    assert.equal(quorum.complete, entry.complete, entry.name);
  }
});

test('a quorum of zero replicas is a programmer error', () => {
  assert.throws(() => new WriteQuorum(REPLICAS, 0), AssertionError);
  assert.throws(() => new ReadQuorum(REPLICAS, 0), AssertionError);
});

test('outcome is impossible exactly when too many failed, met exactly at the quorum', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 7 }),
    fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 8 })), { maxLength: 30 }),
    fc.integer({ min: 1, max: 7 }),
    (count, events, required) => {
      const replicas = Array.from({ length: count }, (_, index) => `r${index}`);
      const quorum = new WriteQuorum(replicas, required);
      const answered = new Set<string>();
      const failed = new Set<string>();
      for (const [success, index] of events) {
        const replica = `r${index}`;
        const member = index < count;
        if (success) {
          quorum.ack(replica);
          if (member && !failed.has(replica)) answered.add(replica);
        } else {
          quorum.fail(replica);
          if (member && !answered.has(replica)) failed.add(replica);
        }
        const expected = answered.size >= required ? 'met'
          : count - failed.size < required ? 'impossible' : 'pending';
        assert.equal(quorum.outcome, expected);
        assert.ok(quorum.successes <= count, 'never more successes than replicas');
      }
    }), { seed: 5 });
});

const v = (physicalMs: number, logical = 0, nodeTag = 1): Version =>
  ({ physicalMs, logical, nodeTag });

interface ReadCase {
  name: string;
  answers: ReadonlyArray<readonly [string, StoredRecord | null]>;
  newest: Version | null;
  newestTombstone?: boolean;
  stale: readonly string[];
}

const READ_CASES: ReadCase[] = [
  { name: 'no answers', answers: [], newest: null, stale: [] },
  { name: 'every replica has nothing', answers: [['a', null], ['b', null]],
    newest: null, stale: [] },
  { name: 'all agree', answers: [['a', record(5)], ['b', record(5)], ['c', record(5)]],
    newest: v(5), stale: [] },
  { name: 'one older', answers: [['a', record(5)], ['b', record(3)], ['c', record(5)]],
    newest: v(5), stale: ['b'] },
  { name: 'newest arrives last', answers: [['a', record(3)], ['b', record(4)], ['c', record(9)]],
    newest: v(9), stale: ['a', 'b'] },
  { name: 'a replica without the key is stale',
    answers: [['a', null], ['b', record(2)]], newest: v(2), stale: ['a'] },
  { name: 'the logical counter orders writes in one millisecond',
    answers: [['a', record(7, 2)], ['b', record(7, 1)]], newest: v(7, 2), stale: ['b'] },
  { name: 'equal clocks: the higher node tag wins (same on every replica)',
    answers: [['a', record(7, 0, 3)], ['b', record(7, 0, 9)], ['c', record(7, 0, 4)]],
    newest: v(7, 0, 9), stale: ['a', 'c'] },
  { name: 'a newer tombstone wins over an older value',
    answers: [['a', record(5)], ['b', record(6, 0, 1, true)]],
    newest: v(6), newestTombstone: true, stale: ['a'] },
  { name: 'a newer value wins over an older tombstone',
    answers: [['a', record(6, 0, 1, true)], ['b', record(8)], ['c', null]],
    newest: v(8), newestTombstone: false, stale: ['a', 'c'] },
  { name: 'a tombstone is newer than no record at all',
    answers: [['a', null], ['b', record(1, 0, 1, true)]],
    newest: v(1), newestTombstone: true, stale: ['a'] },
  { name: 'same version as value and as tombstone (expired on one replica): tombstone',
    answers: [['a', record(4)], ['b', record(4, 0, 1, true)]],
    newest: v(4), newestTombstone: true, stale: [] },
  { name: 'same version, tombstone first: still the tombstone',
    answers: [['a', record(4, 0, 1, true)], ['b', record(4)]],
    newest: v(4), newestTombstone: true, stale: [] },
  { name: 'a duplicate answer is ignored, even if newer',
    answers: [['a', record(2)], ['a', record(9)], ['b', record(2)]], newest: v(2), stale: [] },
  { name: 'a non-member answer is ignored',
    answers: [['a', record(2)], ['stranger', record(9)]], newest: v(2), stale: [] },
];

test('read quorum: newest record and stale replicas for read repair', () => {
  for (const entry of READ_CASES) {
    const quorum = new ReadQuorum(REPLICAS, 2);
    for (const [replica, answer] of entry.answers) quorum.respond(replica, answer);
    assert.deepEqual(quorum.newest?.version ?? null, entry.newest, entry.name);
    if (entry.newestTombstone !== undefined) {
      assert.equal(quorum.newest?.tombstone, entry.newestTombstone, entry.name);
    }
    assert.deepEqual(quorum.staleReplicas().sort(), [...entry.stale].sort(), entry.name);
  }
});

test('read repair skips replicas that failed or have not answered yet', () => {
  const quorum = new ReadQuorum(['a', 'b', 'c', 'd'], 2);
  quorum.respond('a', record(10));
  quorum.fail('b');
  quorum.respond('b', record(1));
  quorum.respond('c', record(4));
  assert.equal(quorum.outcome, 'met');
  assert.deepEqual(quorum.staleReplicas(), ['c']);
  assert.equal(quorum.complete, false, 'd is still out');
});

test('the newest record does not depend on the order answers arrive in', () => {
  fc.assert(fc.property(
    fc.array(fc.option(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 2 }), fc.boolean()), { nil: null }),
    { minLength: 1, maxLength: 5 }),
    (specs) => {
      const replicas = specs.map((_, index) => `r${index}`);
      const answers = specs.map((spec) => spec === null ? null
        : record(spec[0], spec[1], spec[2], spec[3]));
      const forward = new ReadQuorum(replicas, 1);
      const backward = new ReadQuorum(replicas, 1);
      answers.forEach((answer, index) => forward.respond(`r${index}`, answer));
      for (let index = answers.length - 1; index >= 0; index--) {
        backward.respond(`r${index}`, answers[index] ?? null);
      }
      assert.deepEqual(forward.newest?.version ?? null, backward.newest?.version ?? null);
      assert.equal(forward.newest?.tombstone, backward.newest?.tombstone);
      assert.deepEqual(forward.staleReplicas().sort(), backward.staleReplicas().sort());
    }), { seed: 3 });
});

test('sloppy write quorum: durable hints stand in, refused hints make it impossible', () => {
  const replicas = ['a', 'b', 'c'];
  const hinted = new WriteQuorum(replicas, 3, true);
  hinted.ack('a');
  hinted.fail('b');
  hinted.fail('c');
  assert.equal(hinted.outcome, 'pending', 'waiting for the hints to be durable');
  hinted.hint('b');
  hinted.hint('c');
  assert.equal(hinted.outcome, 'met');

  const refused = new WriteQuorum(replicas, 3, true);
  refused.ack('a');
  refused.fail('b');
  refused.hint('b');
  refused.fail('c');
  refused.unhintable('c');
  assert.equal(refused.outcome, 'impossible', 'a refused hint cannot stand in');

  const onlyHints = new WriteQuorum(replicas, 2, true);
  for (const replica of replicas) {
    onlyHints.fail(replica);
    onlyHints.hint(replica);
  }
  assert.equal(onlyHints.outcome, 'impossible', 'a write is never only in hints');

  const strict = new WriteQuorum(replicas, 2, false);
  strict.ack('a');
  strict.fail('b');
  strict.hint('b');
  strict.fail('c');
  strict.hint('c');
  assert.equal(strict.outcome, 'impossible', 'strict quorum ignores hints');
});
