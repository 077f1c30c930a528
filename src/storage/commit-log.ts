/**
 * The commit log: an append-only write-ahead log in front of LMDB, like Redis's AOF.
 *
 * Why: LMDB commits run on lmdb-js's write thread and each one waits for the previous
 * commit's fsync, so answering a write only after its LMDB commit costs about half a
 * millisecond per round trip (see bench/RESULTS.md). Instead each group of writes (one
 * event-loop turn) is appended here with one write(2) before any of its replies leave, which
 * a process crash cannot undo; fsync follows per appendfsync (every group for 'always',
 * once a second for 'everysec'). LMDB commits the same writes behind it; a segment is
 * deleted once LMDB has flushed every group in it. At start, whatever the log still holds
 * is replayed into LMDB (puts and removes of whole records, so replay is idempotent), and a
 * torn group at the tail (a crash mid-write) is ignored: its writes were never acknowledged.
 *
 * Group layout: u32 payload length, u32 CRC-32 of the payload, payload. Payload: operations,
 * each u8 table, u8 kind (1 put, 2 remove), u16 key length, u32 value length, key, value.
 */
import {
  closeSync,
  fdatasync,
  fsync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  unlink,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32 } from '../util/crc32.js';

const SEGMENT_PATTERN = /^commit-(\d{12})\.log$/;
/** A new segment starts once the current one is this large. */
const SEGMENT_BYTES_MAX = 64 * 1024 * 1024;
const GROUP_HEADER_BYTES = 8;
const BUILDER_BYTES = 64 * 1024;
const BUILDER_BYTES_KEPT = 4 * 1024 * 1024;
const OPERATION_HEADER_BYTES = 8;

export const enum LogOperation {
  Put = 1,
  Remove = 2,
}

export interface LoggedOperation {
  table: number;
  kind: LogOperation;
  key: Buffer;
  value: Buffer | null;
}

interface Segment {
  number: number;
  path: string;
  fd: number;
  bytes: number;
  /** Sequence number of the last group written to this segment. */
  lastGroup: number;
  /** Its final fsync (started when the next segment opened) has not completed. */
  syncing: boolean;
}

/** Builds one group in a reused buffer (the log writes it synchronously, then it is reset). */
export class GroupBuilder {
  private buffer = Buffer.allocUnsafe(BUILDER_BYTES);
  private length = GROUP_HEADER_BYTES;

  get isEmpty(): boolean {
    return this.length === GROUP_HEADER_BYTES;
  }

  add(table: number, kind: LogOperation, key: Buffer, value: Buffer | null): void {
    // A remove carries no value, whatever the caller passed.
    if (kind === LogOperation.Remove) value = null;
    const valueLength = value === null ? 0 : value.length;
    const needed = OPERATION_HEADER_BYTES + key.length + valueLength;
    this.reserve(needed);
    const buffer = this.buffer;
    const offset = this.length;
    buffer[offset] = table;
    buffer[offset + 1] = kind;
    buffer.writeUInt16BE(key.length, offset + 2);
    buffer.writeUInt32BE(valueLength, offset + 4);
    buffer.set(key, offset + OPERATION_HEADER_BYTES);
    if (value !== null) buffer.set(value, offset + OPERATION_HEADER_BYTES + key.length);
    this.length += needed;
  }

  /**
   * The complete group (header and payload) as a view of the builder's buffer, valid until
   * the next `add`; the builder starts a new group.
   */
  finish(): Buffer {
    const buffer = this.buffer;
    buffer.writeUInt32BE(this.length - GROUP_HEADER_BYTES, 0);
    buffer.writeUInt32BE(crc32(buffer, GROUP_HEADER_BYTES, this.length), 4);
    const group = buffer.subarray(0, this.length);
    this.length = GROUP_HEADER_BYTES;
    // Do not keep a buffer grown for one huge value.
    if (buffer.length > BUILDER_BYTES_KEPT) this.buffer = Buffer.allocUnsafe(BUILDER_BYTES);
    return group;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/**
 * Closing a full segment and deleting a released one happen off the event loop: an
 * fsync of a 64 MiB segment's unsynced tail, or an unlink that frees its pages, stalled
 * the loop for up to ~30 ms (seen in the tail latency of SET -P 16, where a segment fills
 * every 2 s).
 */
export class CommitLog {
  private readonly segments: Segment[] = [];
  private nextGroup = 1;
  /**
   * Released segments' paths waiting to be deleted, oldest first. One unlink runs at a
   * time, in this order: were a newer segment deleted before an older one, a crash between
   * the two would leave the older one to be replayed without the newer writes after it.
   */
  private readonly unlinks: string[] = [];
  private unlinking = false;
  private closed = false;
  /** The highest sequence `release` was given: a segment whose sync ends later goes then. */
  private releasedUpTo = 0;
  /** `nextGroup` when the last fdatasync began: no group appended since, none needed. */
  private syncedBefore = 1;
  private syncs = 0;

  constructor(private readonly dir: string, private readonly logger: Logger) {}

  /** fdatasync calls issued (not skipped). */
  get syncsIssued(): number {
    return this.syncs;
  }

  /**
   * Reads every segment left by the previous run, in order, and returns their operations
   * (stopping at the first torn or corrupt group). Call `discardRecovered` once they are
   * durable in LMDB.
   */
  recover(): LoggedOperation[] {
    const operations: LoggedOperation[] = [];
    const names = this.segmentNames();
    names.forEach((name, index) => {
      const path = join(this.dir, name);
      const bytes = readFileSync(path);
      const complete = decodeGroups(bytes, operations);
      if (complete === bytes.length) return;
      if (index === names.length - 1) {
        this.logger.warn({ segment: name, ignoredBytes: bytes.length - complete },
          'commit log ends with an incomplete group (crash during a write); ignored');
      } else {
        // Not a torn tail: this segment was complete when the next one started. Keep every
        // group that is still readable, here and in later segments, and say so loudly.
        this.logger.error({ segment: name, unreadableBytes: bytes.length - complete },
          'commit log segment is corrupt; the groups after the damage in it are lost');
      }
    });
    return operations;
  }

  /** Deletes the segments `recover` read and opens a fresh one. */
  discardRecovered(): void {
    const names = this.segmentNames();
    for (const name of names) unlinkSync(join(this.dir, name));
    const last = names.length === 0 ? 0 : Number(SEGMENT_PATTERN.exec(names.at(-1) as string)?.[1]);
    this.openSegment(last + 1);
  }

  /** Appends a group with one write(2); returns its sequence number. */
  append(group: Buffer): number {
    let segment = this.segments.at(-1) as Segment;
    if (segment.bytes >= SEGMENT_BYTES_MAX) segment = this.openSegment(segment.number + 1);
    let written = 0;
    while (written < group.length) {
      written += writeSync(segment.fd, group, written, group.length - written);
    }
    segment.bytes += group.length;
    const sequence = this.nextGroup++;
    segment.lastGroup = sequence;
    return sequence;
  }

  /**
   * fdatasync of the segments holding unsynced groups; calls back when done. With nothing
   * appended since the last fdatasync began, calls back at once: that one (perhaps still
   * running) covers every group. An idle node synced once a second for nothing; Redis
   * skips it too. Callers that wait for durability sync right after their own append.
   */
  sync(callback: (error: Error | null) => void): void {
    if (this.nextGroup === this.syncedBefore) {
      callback(null);
      return;
    }
    this.syncedBefore = this.nextGroup;
    this.syncs++;
    const segment = this.segments.at(-1) as Segment;
    fdatasync(segment.fd, (error) => callback(error ?? null));
  }

  /** Every group up to `sequence` is flushed in LMDB: drop segments holding only those. */
  release(sequence: number): void {
    this.releasedUpTo = Math.max(this.releasedUpTo, sequence);
    this.deleteReleased();
  }

  /** Queues and starts deleting what `releasedUpTo` allows (again after a sync ends). */
  private deleteReleased(): void {
    this.queueReleased();
    this.unlinkNext();
  }

  /**
   * Moves the segments holding only groups up to `releasedUpTo` to the deletion queue,
   * oldest first; a segment still being synced goes when its sync ends.
   */
  private queueReleased(): void {
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      if (oldest.lastGroup > this.releasedUpTo || oldest.syncing) break;
      closeSync(oldest.fd);
      this.segments.shift();
      this.unlinks.push(oldest.path);
    }
  }

  private unlinkNext(): void {
    if (this.unlinking || this.closed) return;
    const path = this.unlinks[0];
    if (path === undefined) return;
    this.unlinking = true;
    unlink(path, (error) => {
      this.unlinking = false;
      if (error !== null && error.code !== 'ENOENT') {
        // Kept at the head of the queue, so no newer segment goes before it; the next
        // release tries again.
        this.logger.error({ err: error, path }, 'could not delete a released commit log segment');
        return;
      }
      if (this.unlinks[0] === path) this.unlinks.shift();
      this.unlinkNext();
    });
  }

  /** Deletes the released segments still waiting, oldest first, before a close. */
  private unlinkWaiting(): void {
    for (const path of this.unlinks) {
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    this.unlinks.length = 0;
  }

  close(): void {
    this.closed = true;
    for (const segment of this.segments) {
      fsyncSync(segment.fd);
      segment.syncing = false;
    }
    this.queueReleased();
    this.unlinkWaiting();
    for (const segment of this.segments) closeSync(segment.fd);
    this.segments.length = 0;
  }

  /** Removes every segment: all groups are flushed in LMDB (clean shutdown). */
  closeClean(): void {
    this.closed = true;
    this.unlinkWaiting();
    for (const segment of this.segments) {
      closeSync(segment.fd);
      unlinkSync(segment.path);
    }
    this.segments.length = 0;
  }

  private openSegment(number: number): Segment {
    const full = this.segments.at(-1);
    if (full !== undefined) {
      // Its groups since the last periodic fdatasync ('everysec') become durable here.
      full.syncing = true;
      fsync(full.fd, (error) => {
        full.syncing = false;
        if (this.closed) return;
        if (error !== null) {
          this.logger.error({ err: error, path: full.path },
            'fsync of a full commit log segment failed');
        }
        this.deleteReleased();
      });
    }
    const path = join(this.dir, `commit-${String(number).padStart(12, '0')}.log`);
    const segment = { number, path, fd: openSync(path, 'a'), bytes: 0, lastGroup: 0,
      syncing: false };
    this.segments.push(segment);
    return segment;
  }

  private segmentNames(): string[] {
    return readdirSync(this.dir).filter((name) => SEGMENT_PATTERN.test(name)).sort();
  }
}

/**
 * Appends the operations of every complete, valid group; returns the bytes consumed. A group
 * is checked whole (CRC and layout) before any of its operations is taken, so a torn or
 * corrupt group is never half applied. Keys and values are views of `bytes` (a segment read
 * from disk): the caller must own them and not change them.
 */
export function decodeGroups(bytes: Buffer, operations: LoggedOperation[]): number {
  return visitGroupLayouts(bytes, true, (table, kind, keyStart, valueStart, end) => {
    operations.push({ table, kind, key: bytes.subarray(keyStart, valueStart),
      value: kind === LogOperation.Put ? bytes.subarray(valueStart, end) : null });
  });
}

/**
 * Called for each operation of a group with where it lies in the visited bytes: the key is
 * bytes[keyStart, valueStart), a put's value bytes[valueStart, end).
 */
export type OperationLayoutVisitor = (table: number, kind: LogOperation, keyStart: number,
  valueStart: number, end: number) => void;

/**
 * Visits the operations of every complete, valid group in order, as offsets into `bytes`
 * (nothing is allocated per operation); returns the bytes consumed. A group is checked
 * whole before any of its operations is visited. `checkCrc` false skips the CRC for bytes
 * this process built and never wrote to or read from a file (the writer's batches, which
 * crc32 made ~8 % of its time); their layout is still checked.
 */
export function visitGroupLayouts(bytes: Buffer, checkCrc: boolean,
    visit: OperationLayoutVisitor): number {
  let offset = 0;
  while (offset + GROUP_HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const start = offset + GROUP_HEADER_BYTES;
    const end = start + length;
    if (end > bytes.length) break;
    if (checkCrc && crc32(bytes, start, end) !== bytes.readUInt32BE(offset + 4)) break;
    if (!payloadValid(bytes, start, end)) break;
    visitPayload(bytes, start, end, visit);
    offset = end;
  }
  return offset;
}

/** The end of the operation at `offset` in bytes[.., end), or -1 when it is malformed. */
function operationEnd(bytes: Buffer, offset: number, end: number): number {
  if (offset + OPERATION_HEADER_BYTES > end) return -1;
  const kind = bytes[offset + 1];
  if (kind !== LogOperation.Put && kind !== LogOperation.Remove) return -1;
  const operationEnd = offset + OPERATION_HEADER_BYTES + bytes.readUInt16BE(offset + 2) +
    (kind === LogOperation.Put ? bytes.readUInt32BE(offset + 4) : 0);
  return operationEnd > end ? -1 : operationEnd;
}

/** Whether bytes[start, end) is a sequence of whole operations. */
function payloadValid(bytes: Buffer, start: number, end: number): boolean {
  for (let offset = start; offset < end;) {
    offset = operationEnd(bytes, offset, end);
    if (offset < 0) return false;
  }
  return true;
}

function visitPayload(bytes: Buffer, start: number, end: number,
    visit: OperationLayoutVisitor): void {
  for (let offset = start; offset < end;) {
    const next = operationEnd(bytes, offset, end);
    const keyStart = offset + OPERATION_HEADER_BYTES;
    visit(bytes[offset] as number, bytes[offset + 1] as LogOperation, keyStart,
      keyStart + bytes.readUInt16BE(offset + 2), next);
    offset = next;
  }
}
