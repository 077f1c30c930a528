import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History } from '../helpers/history.js';
import { convergence, lostWrites, sessionGuarantees } from '../helpers/checkers.js';

test('lost-write checker: acknowledged writes must survive, unknown ones may', () => {
  const history = new History();
  const acked = history.invoke(1, 'write', 'k1', 'a');
  history.complete(acked, 'ok');
  const lost = history.invoke(1, 'write', 'k2', 'b');
  history.complete(lost, 'ok');
  const unknown = history.invoke(2, 'write', 'k3', 'c');
  history.complete(unknown, 'info', undefined, 'timeout');
  const failed = history.invoke(2, 'write', 'k4', 'd');
  history.complete(failed, 'fail', undefined, 'NOREPLICAS');
  const report = lostWrites(history, new Map([['k1', 'a'], ['k2', null], ['k3', 'c']]));
  assert.equal(report.acknowledged, 2);
  assert.deepEqual(report.lost, ['k2']);
  assert.equal(report.recovered, 1);
});

test('convergence checker finds replicas that disagree', () => {
  const report = convergence(new Map([['a', ['1', '1', '1']], ['b', ['1', null, '1']]]));
  assert.deepEqual(report.diverged, [{ key: 'b', values: ['1', null, '1'] }]);
});

test('session checker: read-your-writes and monotonic reads per process', () => {
  const history = new History();
  const write = (process: number, value: string): void => {
    history.complete(history.invoke(process, 'write', 'x', value), 'ok');
  };
  const read = (process: number, value: string | null): void => {
    history.complete(history.invoke(process, 'read', 'x'), 'ok', value);
  };
  write(1, '1');
  read(1, '1');
  write(1, '2');
  read(1, '1'); // stale for its own write
  read(2, '2');
  read(2, '1'); // went back in time
  read(2, '3');
  const violations = sessionGuarantees(history);
  assert.deepEqual(violations.map((violation) => [violation.process, violation.kind]),
    [[1, 'read-your-writes'], [2, 'monotonic-read']]);
});
