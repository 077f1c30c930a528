/**
 * Consistency levels: parsing ONE / QUORUM / ALL / a number, and how many replicas each
 * level requires out of a preference list of a given size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  levelName,
  parseLevel,
  requiredReplicas,
  type Level,
} from '../../src/coordinator/consistency.js';

test('requiredReplicas: table', () => {
  const cases: Array<[Level, number, number]> = [
    ['one', 0, 1],
    ['one', 1, 1],
    ['one', 5, 1],
    ['quorum', 0, 1],
    ['quorum', 1, 1],
    ['quorum', 2, 2],
    ['quorum', 3, 2],
    ['quorum', 4, 3],
    ['quorum', 5, 3],
    ['quorum', 16, 9],
    ['all', 0, 1],
    ['all', 1, 1],
    ['all', 3, 3],
    ['all', 16, 16],
    [1, 3, 1],
    [2, 3, 2],
    [3, 3, 3],
    // More than the replicas: kept, so the quorum is reported impossible, not silently lowered.
    [4, 3, 4],
    [2, 1, 2],
  ];
  for (const [level, replicas, expected] of cases) {
    assert.equal(requiredReplicas(level, replicas), expected, `${String(level)} of ${replicas}`);
  }
});

test('QUORUM reads and writes always overlap: R + W > N', () => {
  for (let replicas = 1; replicas <= 16; replicas++) {
    const quorum = requiredReplicas('quorum', replicas);
    assert.ok(quorum + quorum > replicas, `N = ${replicas}`);
    assert.ok(quorum <= replicas, `N = ${replicas}: a quorum is reachable`);
    assert.ok(requiredReplicas('one', replicas) + requiredReplicas('all', replicas) > replicas);
  }
});

test('parseLevel: names in any case, positive integers, nothing else', () => {
  const cases: Array<[string, Level | null]> = [
    ['one', 'one'],
    ['ONE', 'one'],
    ['Quorum', 'quorum'],
    ['all', 'all'],
    ['ALL', 'all'],
    ['1', 1],
    ['3', 3],
    ['16', 16],
    // A replica count is at most 16, the largest replication factor.
    ['17', null],
    ['0', null],
    ['10000', null],
    ['01', null],
    ['-1', null],
    ['+1', null],
    ['1.5', null],
    ['1e2', null],
    [' 1', null],
    ['1 ', null],
    ['one ', null],
    ['', null],
    ['two', null],
    ['any', null],
    ['local_quorum', null],
  ];
  for (const [text, expected] of cases) {
    assert.equal(parseLevel(text), expected, JSON.stringify(text));
  }
});

test('levelName: upper-case names, numbers as digits, and it parses back', () => {
  const cases: Array<[Level, string]> = [['one', 'ONE'], ['quorum', 'QUORUM'], ['all', 'ALL'],
    [1, '1'], [16, '16']];
  for (const [level, name] of cases) {
    assert.equal(levelName(level), name);
    assert.equal(parseLevel(name), level);
  }
  fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), (level) => {
    assert.equal(parseLevel(levelName(level)), level);
  }), { seed: 2 });
});
