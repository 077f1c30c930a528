/**
 * The LMDB writer thread. The main thread logs each group of writes in the commit log and
 * answers clients; this thread applies the groups to LMDB behind it, off the event loop.
 * The main thread gathers groups for a while (lmdb-engine.ts, HANDOFF_MS) and sends them in
 * one message, which this thread applies at once in one transaction; messages that queued
 * up while it was busy go into one transaction together.
 *
 * Messages in:  { type: 'apply', sequence, bytes, length }  (commit-log groups up to
 *                 `sequence` in bytes[0, length), transferred)
 *               { type: 'close' }
 * Messages out: { type: 'committed', sequence, buffers }  (visible to readers; the applied
 *                 messages' buffers, transferred back for reuse)
 *               { type: 'flushed', sequence }    (durable in the data file)
 *               { type: 'error', message }
 *               { type: 'closed' }
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { applyGroups, openDatabases, type WriterData } from './lmdb-open.js';

/**
 * How much nicer than the process this thread runs. It applies a batch in one burst of
 * tens of milliseconds of CPU; at the main thread's niceness that burst took a core from
 * the event loop (or from clients on the same host) and showed in its tail latency. Niced,
 * it runs in the gaps: its work is the same, and a writer that falls behind only makes its
 * next transaction bigger (cheaper per put), while the commit log and the overlay hold the
 * writes. At nice 19 instead, SET -P 1's p99 and req/s did not change (bench/RESULTS.md).
 */
const WRITER_NICENESS_STEP = 10;
const NICENESS_MAX = 19;

interface ApplyMessage {
  type: 'apply';
  sequence: number;
  bytes: ArrayBuffer;
  length: number;
}

interface CloseMessage {
  type: 'close';
}


const port = parentPort;
if (port === null) throw new Error('lmdb-writer must run in a worker thread');
lowerThreadPriority();
const databases = openDatabases(workerData as WriterData);
const root = databases.root;
let queue: ApplyMessage[] = [];
let scheduled = false;
let closing = false;

port.on('message', (message: ApplyMessage | CloseMessage) => {
  if (message.type === 'close') {
    closing = true;
    if (!scheduled) void close();
    return;
  }
  queue.push(message);
  // Messages already waiting arrive before the immediate: one transaction takes them all.
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
});

function drain(): void {
  scheduled = false;
  try {
    if (queue.length > 0) {
      const batch = queue;
      queue = [];
      const sequence = (batch[batch.length - 1] as ApplyMessage).sequence;
      apply(batch);
      const buffers = batch.map((message) => message.bytes);
      port?.postMessage({ type: 'committed', sequence, buffers }, buffers);
      const flushed = root.flushed;
      void Promise.resolve(flushed).then(() => port?.postMessage({ type: 'flushed', sequence }));
    }
  } catch (error) {
    port?.postMessage({ type: 'error', message: (error as Error).message });
  }
  if (closing) void close();
}

/** Writes the groups in one transaction, in log order. */
function apply(batch: readonly ApplyMessage[]): void {
  // The transferred bytes belong to this thread: keys and values may be views of them.
  applyGroups(databases, batch.map((message) => Buffer.from(message.bytes, 0, message.length)));
}

/**
 * Renices this thread alone: on Linux setpriority(2) on a thread id affects that thread,
 * and /proc/thread-self names it. Elsewhere (or without /proc) the thread keeps its
 * priority.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(threadId) || threadId <= 0) return;
    setPriority(threadId, Math.min(NICENESS_MAX, getPriority(threadId) + WRITER_NICENESS_STEP));
  } catch {
    // Not Linux, or not permitted: the writer runs at the process's priority.
  }
}

async function close(): Promise<void> {
  await root.flushed;
  await root.close();
  port?.postMessage({ type: 'closed' });
}

