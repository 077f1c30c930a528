/**
 * End-of-turn tasks run once, in the order queued, after the turn's I/O callbacks; a task
 * queued by a running task runs in the same pass (a sealed log group releasing replies
 * that must still leave this turn), and a task that throws does not drop the ones after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atTurnEnd } from '../../src/runtime/turn-end.js';

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

test('tasks run after the current turn, in the order queued', async () => {
  const ran: string[] = [];
  atTurnEnd(() => ran.push('a'));
  atTurnEnd(() => ran.push('b'));
  ran.push('turn');
  await nextTurn();
  assert.deepEqual(ran, ['turn', 'a', 'b']);
});

test('a task queued by a running task runs in the same pass, before the next turn', async () => {
  const ran: string[] = [];
  let immediateQueuedDuringPass = false;
  atTurnEnd(() => {
    ran.push('seal');
    // Queued now, an immediate would only run in the next turn; the task must not wait.
    setImmediate(() => ran.push('next turn'));
    immediateQueuedDuringPass = true;
    atTurnEnd(() => ran.push('write'));
  });
  await nextTurn();
  await nextTurn();
  assert.equal(immediateQueuedDuringPass, true);
  assert.deepEqual(ran, ['seal', 'write', 'next turn']);
});

test('a throwing task leaves the later tasks to a new pass', async () => {
  const ran: string[] = [];
  const errors: unknown[] = [];
  const listener = (error: unknown): void => {
    errors.push(error);
  };
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', listener);
  try {
    atTurnEnd(() => {
      throw new Error('task failed');
    });
    atTurnEnd(() => ran.push('after'));
    await nextTurn();
    await nextTurn();
    assert.deepEqual(ran, ['after']);
    assert.equal(errors.length, 1);
    // The queue works normally afterwards.
    atTurnEnd(() => ran.push('later'));
    await nextTurn();
    assert.deepEqual(ran, ['after', 'later']);
  } finally {
    process.removeListener('uncaughtException', listener);
    for (const handler of previous) process.on('uncaughtException', handler);
  }
});
