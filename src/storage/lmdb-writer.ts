/**
 * The LMDB writer thread. The main thread logs each group of writes in the commit log and
 * answers clients; this thread applies the groups to LMDB behind it, off the event loop.
 * When it falls behind it takes every queued group at once and writes each key only once
 * (the last write wins), so a burst of updates to the same keys costs one B-tree write each.
 *
 * Messages in:  { type: 'apply', sequence, bytes }  (a commit-log group, transferred)
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
}

interface CloseMessage {
  type: 'close';
}

const port = parentPort;
if (port === null) throw new Error('lmdb-writer must run in a worker thread');
const { root, tables } = openDatabases(workerData as WriterData);
let queue: ApplyMessage[] = [];
let running = false;
let scheduled = false;
const GATHER_MS = 20;
let closing = false;

port.on('message', (message: ApplyMessage | CloseMessage) => {
  if (message.type === 'close') {
    closing = true;
    if (!running) void close();
    return;
  }
  queue.push(message);
  if (!running && !scheduled) {
    // Gather groups for a few milliseconds: fewer, larger transactions cost less CPU and
    // fsync per write, and a key written again meanwhile is written to LMDB once.
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      void drain();
    }, GATHER_MS);
  }
});

async function drain(): Promise<void> {
  running = true;
  try {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const sequence = (batch[batch.length - 1] as ApplyMessage).sequence;
      apply(batch);
      port?.postMessage({ type: 'committed', sequence });
      const flushed = root.flushed;
      void Promise.resolve(flushed).then(() => port?.postMessage({ type: 'flushed', sequence }));
      // Let more groups arrive so the next transaction takes them all.
      await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
    }
  } catch (error) {
    port?.postMessage({ type: 'error', message: (error as Error).message });
  } finally {
    running = false;
  }
  if (closing) await close();
}

/** Writes the groups in one transaction, each key once (the last write wins). */
function apply(batch: readonly ApplyMessage[]): void {
  const operations: LoggedOperation[] = [];
  for (const message of batch) decodeGroups(Buffer.from(message.bytes), operations);
  const last = new Map<string, LoggedOperation>();
  for (const operation of operations) {
    last.set(`${operation.table}:${operation.key.latin1Slice()}`, operation);
  }
  root.transactionSync(() => {
    for (const operation of last.values()) {
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

