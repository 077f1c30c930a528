/**
 * The LMDB writer thread. The main thread logs each group of writes in the commit log and
 * answers clients; this thread applies the groups to LMDB behind it, off the event loop.
 * When it falls behind it takes every queued group at once into one transaction: a key
 * written again in the same transaction lands on a page that transaction already copied.
 *
 * Messages in:  { type: 'apply', sequence, bytes, length, urgent }  (commit-log groups up
 *                 to `sequence` in bytes[0, length), transferred)
 *               { type: 'hurry' }  (a flush waits: apply what is queued without gathering)
 *               { type: 'close' }
 * Messages out: { type: 'committed', sequence }  (visible to readers)
 *               { type: 'flushed', sequence }    (durable in the data file)
 *               { type: 'error', message }
 *               { type: 'closed' }
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeGroups, LogOperation, type LoggedOperation } from './commit-log.js';
import { openDatabases, type WriterData } from './lmdb-open.js';

interface ApplyMessage {
  type: 'apply';
  sequence: number;
  bytes: ArrayBuffer;
  length: number;
  /** Someone waits for these groups to be flushed: apply them without gathering. */
  urgent: boolean;
}

interface CloseMessage {
  type: 'close';
}

/** A flush waits for groups already handed over: stop gathering. */
interface HurryMessage {
  type: 'hurry';
}

const port = parentPort;
if (port === null) throw new Error('lmdb-writer must run in a worker thread');
const { root, tables } = openDatabases(workerData as WriterData);
let queue: ApplyMessage[] = [];
let running = false;
let closing = false;
/** Set by an urgent message (a flush is waited for): apply without gathering. */
let urgent = false;
/** Ends the current gathering pause early. */
let wake: (() => void) | null = null;
/**
 * How long groups gather before a transaction takes them all. Each put into a random key
 * copies a 4 KiB page once per transaction, so larger transactions write fewer pages per
 * put and leave more CPU to the main thread on a small machine (bench/RESULTS.md); the
 * main thread serves reads from its overlay meanwhile, and the commit log keeps the
 * groups durable.
 */
const GATHER_MS = 200;

port.on('message', (message: ApplyMessage | CloseMessage | HurryMessage) => {
  if (message.type === 'close') {
    closing = true;
    if (!running) void close();
    return;
  }
  if (message.type === 'hurry') {
    urgent = true;
    wake?.();
    return;
  }
  queue.push(message);
  if (message.urgent) {
    urgent = true;
    wake?.();
  }
  if (!running) void drain();
});

function gather(): Promise<void> {
  return new Promise((resolve) => {
    if (urgent) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      wake = null;
      resolve();
    }, GATHER_MS);
    wake = () => {
      clearTimeout(timer);
      wake = null;
      resolve();
    };
  });
}

async function drain(): Promise<void> {
  running = true;
  try {
    for (;;) {
      await gather();
      urgent = false;
      if (queue.length === 0) break;
      const batch = queue;
      queue = [];
      const sequence = (batch[batch.length - 1] as ApplyMessage).sequence;
      apply(batch);
      port?.postMessage({ type: 'committed', sequence });
      const flushed = root.flushed;
      void Promise.resolve(flushed).then(() => port?.postMessage({ type: 'flushed', sequence }));
    }
  } catch (error) {
    port?.postMessage({ type: 'error', message: (error as Error).message });
  } finally {
    running = false;
  }
  if (closing) await close();
}

/** Writes the groups in one transaction, in log order. */
function apply(batch: readonly ApplyMessage[]): void {
  const operations: LoggedOperation[] = [];
  // The transferred bytes belong to this thread: operations may point into them.
  for (const message of batch) {
    decodeGroups(Buffer.from(message.bytes, 0, message.length), operations, false);
  }
  root.transactionSync(() => {
    for (const operation of operations) {
      const table = tables[operation.table];
      if (table === undefined) throw new Error(`unknown table ${operation.table}`);
      if (operation.kind === LogOperation.Put) {
        table.putSync(operation.key, operation.value as Buffer);
      } else {
        table.removeSync(operation.key);
      }
    }
  });
}

async function close(): Promise<void> {
  await root.flushed;
  await root.close();
  port?.postMessage({ type: 'closed' });
}

