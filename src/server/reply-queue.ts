/**
 * Replies leave a connection in request order even when they complete out of order
 * (STYLE.md section 8). Output is a queue of segments:
 *
 *  - the tail segment takes every reply that is ready when its command runs;
 *  - a *hold* on a segment keeps it (and everything after it) from leaving until released,
 *    for replies written at once but sent only after the write is durable;
 *  - a *slot* is a segment whose reply is written later (a quorum still being collected);
 *    replies of later commands go into a new tail behind it.
 *
 * Without holds and slots there is one segment and replies go straight out, one socket
 * write per input chunk.
 */
import type { Socket } from 'node:net';
import { assert } from '../util/assert.js';
import { ReplyWriter, type Protocol } from '../protocol/reply-writer.js';

/**
 * Writes a flush's chunks to the socket: one write, or several corked into one writev (not
 * one write(2) per chunk). Returns the bytes written.
 */
export function writeChunks(socket: Socket, chunks: readonly Buffer[]): number {
  if (chunks.length === 1) {
    const chunk = chunks[0] as Buffer;
    socket.write(chunk);
    return chunk.length;
  }
  let bytes = 0;
  socket.cork();
  for (const chunk of chunks) {
    bytes += chunk.length;
    socket.write(chunk);
  }
  socket.uncork();
  return bytes;
}

const SLOT_SLAB_BYTES = 512;
const POOL_MAX = 64;

export class ReplySegment {
  holds = 0;
  awaitingContent = false;
  constructor(readonly writer: ReplyWriter) {}

  get ready(): boolean {
    return this.holds === 0 && !this.awaitingContent;
  }
}

export class ReplyQueue {
  private readonly segments: ReplySegment[] = [];
  private readonly pool: ReplySegment[] = [];
  private head = 0;
  private protocolValue: Protocol = 2;

  constructor(
    /** Writes out the bytes of ready segments, in order. */
    private readonly send: (chunks: Buffer[]) => void,
    private readonly onError: (prefix: string) => void,
  ) {
    this.segments.push(this.newSegment(new ReplyWriter()));
  }

  set protocol(value: Protocol) {
    this.protocolValue = value;
    for (let index = this.head; index < this.segments.length; index++) {
      (this.segments[index] as ReplySegment).writer.protocol = value;
    }
  }

  get protocol(): Protocol {
    return this.protocolValue;
  }

  /** The writer for a reply that is ready now. */
  get writer(): ReplyWriter {
    return this.tail.writer;
  }

  /** Replies not yet sent (for pipeline-depth backpressure): segments waiting. */
  get waitingSegments(): number {
    return this.segments.length - this.head - 1;
  }

  get hasPending(): boolean {
    return this.segments.length - this.head > 1 || !this.tail.ready;
  }

  /** Bytes queued and not yet sent. */
  get queuedBytes(): number {
    let total = 0;
    for (let index = this.head; index < this.segments.length; index++) {
      total += (this.segments[index] as ReplySegment).writer.length;
    }
    return total;
  }

  /** Keeps the tail's replies (written so far and later) from leaving until released. */
  hold(): ReplySegment {
    const segment = this.tail;
    segment.holds++;
    return segment;
  }

  release(segment: ReplySegment): void {
    assert(segment.holds > 0, 'release without hold');
    segment.holds--;
    if (segment.holds === 0) this.flush();
  }

  /** A place for a reply written later; complete it with `fill`. */
  slot(): ReplySegment {
    const slot = this.pooled();
    slot.awaitingContent = true;
    // The slot goes before the current tail's later replies: seal the tail, queue the slot,
    // then open a new tail after it.
    this.segments.push(slot);
    this.segments.push(this.pooled());
    return slot;
  }

  fill(slot: ReplySegment): void {
    assert(slot.awaitingContent, 'slot filled twice');
    slot.awaitingContent = false;
    this.flush();
  }

  /**
   * Called after an input chunk was processed: a held tail is sealed so the next chunk's
   * replies do not wait for this chunk's durability, then ready segments leave.
   */
  endOfInput(): void {
    if (this.tail.holds > 0) this.segments.push(this.pooled());
    this.flush();
  }

  /** Sends every ready segment at the head of the queue. */
  flush(): void {
    let chunks: Buffer[] | null = null;
    while (this.head < this.segments.length) {
      const segment = this.segments[this.head] as ReplySegment;
      if (!segment.ready) break;
      const taken = segment.writer.take();
      if (taken !== null) {
        if (chunks === null) chunks = taken;
        else for (const chunk of taken) chunks.push(chunk);
      }
      if (this.head === this.segments.length - 1) break; // the tail stays open
      this.recycle(segment);
      this.head++;
    }
    this.compact();
    if (chunks !== null) this.send(chunks);
  }

  private get tail(): ReplySegment {
    return this.segments[this.segments.length - 1] as ReplySegment;
  }

  private compact(): void {
    if (this.head > 32 && this.head * 2 > this.segments.length) {
      this.segments.splice(0, this.head);
      this.head = 0;
    }
  }

  private newSegment(writer: ReplyWriter): ReplySegment {
    writer.protocol = this.protocolValue;
    writer.onError = this.onError;
    return new ReplySegment(writer);
  }

  private pooled(): ReplySegment {
    const segment = this.pool.pop();
    if (segment !== undefined) {
      segment.writer.protocol = this.protocolValue;
      return segment;
    }
    return this.newSegment(new ReplyWriter(SLOT_SLAB_BYTES));
  }

  private recycle(segment: ReplySegment): void {
    segment.holds = 0;
    segment.awaitingContent = false;
    if (this.pool.length < POOL_MAX && segment.writer.isEmpty) this.pool.push(segment);
  }
}
