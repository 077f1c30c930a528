/**
 * Work that runs once at the end of the event-loop turn, after every socket that was ready
 * has been read: the storage engine seals the turn's writes into one commit-log group, and
 * client replies and peer requests leave, one socket write per connection, as Redis writes
 * in beforeSleep.
 *
 * Why one queue and not a setImmediate each: a task may make work for a task that already
 * ran this turn (sealing the log releases held replies, which then need a write). Tasks
 * queued while the queue runs run in the same pass, so such replies leave in this turn
 * instead of after the next poll phase.
 *
 * Why writes wait for the turn's end: on loopback each socket write also wakes the reader
 * if it sleeps, which on the benchmark VM costs more than the write itself. Writing
 * between reads woke redis-benchmark once per reply batch; writing in a burst after the
 * reads finds it awake for most of them (GET -P 16 gained about 10 %, bench/RESULTS.md).
 */
type Task = () => void;

let queue: Task[] = [];
let scheduled = false;

/** Runs `task` at the end of this turn (in the order queued); queue it once per turn. */
export function atTurnEnd(task: Task): void {
  queue.push(task);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runTurnEnd);
  }
}

function runTurnEnd(): void {
  // Tasks queued by these tasks are appended to `tasks` and run in this same loop.
  const tasks = queue;
  let index = 0;
  try {
    for (; index < tasks.length; index++) (tasks[index] as Task)();
  } finally {
    if (index < tasks.length) {
      // A task threw: the ones after it still run, in a new pass.
      queue = tasks.slice(index + 1);
      setImmediate(runTurnEnd);
    } else {
      queue = [];
      scheduled = false;
    }
  }
}
