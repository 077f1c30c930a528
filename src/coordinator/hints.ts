/**
 * Hinted handoff's store (DESIGN.md section 8): a write a replica could not take (down, or
 * it did not answer in time) is kept on the coordinator as a hint, durably (the hints
 * table goes through the commit log like every write, so hints survive kill -9), and
 * replayed to the replica when it is back (replication/hint-delivery.ts).
 *
 * Bounded in count per replica, in total bytes and in age: past a bound a hint is refused
 * (and counted), and anti-entropy repairs that replica later instead.
 *
 * Table layout: key = target node id (20 bytes) + sequence (u64 BE), so one target's
 * hints are one ordered range; value = created ms (u48), stored key length (u16), stored
 * key, record bytes.
 */
import type { StorageTable } from '../storage/engine.js';
import { StoredRecord, recordProblem } from '../storage/record.js';

export interface HintLimits {
  /** Hints kept per target node at most. */
  perTargetMax: number;
  /** Bytes of hints kept in total at most. */
  bytesMax: number;
  /** A hint older than this is dropped instead of replayed. */
  ttlMs: number;
}

export interface Hint {
  /** The hint's own table key (to remove it once delivered). */
  key: Buffer;
  createdMs: number;
  stored: Buffer;
  record: StoredRecord;
}

export interface HintStats {
  stored: number;
  delivered: number;
  refused: number;
  expired: number;
  /** Hints that could not be decoded (dropped; anti-entropy repairs what they held). */
  corrupt: number;
}

const ID_BYTES = 20;
const HEADER_BYTES = 8;
const LOAD_PAGE = 4096;

function targetPrefix(target: string): Buffer {
  return Buffer.from(target, 'hex');
}

function hintKey(target: string, sequence: number): Buffer {
  const key = Buffer.allocUnsafe(ID_BYTES + 8);
  targetPrefix(target).copy(key, 0);
  key.writeBigUInt64BE(BigInt(sequence), ID_BYTES);
  return key;
}

function afterLastOf(target: string): Buffer {
  const end = Buffer.alloc(ID_BYTES + 9, 0xff);
  targetPrefix(target).copy(end, 0);
  return end;
}

export class HintStore {
  readonly stats: HintStats = { stored: 0, delivered: 0, refused: 0, expired: 0,
    corrupt: 0 };
  private readonly perTarget = new Map<string, number>();
  private bytes = 0;
  private nextSequence = 1;

  constructor(private readonly table: StorageTable, private readonly limits: HintLimits) {}

  /** Counts the hints left by the previous run (call once at start). */
  load(): void {
    let start = Buffer.alloc(0);
    const end = Buffer.alloc(ID_BYTES + 9, 0xff);
    for (;;) {
      const page = this.table.range(start, end, LOAD_PAGE);
      for (const [key, value] of page) {
        const target = key.subarray(0, ID_BYTES).toString('hex');
        this.perTarget.set(target, (this.perTarget.get(target) ?? 0) + 1);
        this.bytes += key.length + value.length;
        this.nextSequence = Math.max(this.nextSequence,
          Number(key.readBigUInt64BE(ID_BYTES)) + 1);
      }
      if (page.length < LOAD_PAGE) return;
      start = Buffer.concat([(page[page.length - 1] as [Buffer, Buffer])[0], Buffer.from([0])]);
    }
  }

  get pending(): number {
    let total = 0;
    for (const count of this.perTarget.values()) total += count;
    return total;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  pendingFor(target: string): number {
    return this.perTarget.get(target) ?? 0;
  }

  targets(): string[] {
    return [...this.perTarget.entries()].filter(([, count]) => count > 0)
      .map(([target]) => target);
  }

  /** Keeps a write for `target`; false when a bound refuses it. */
  add(target: string, stored: Buffer, record: StoredRecord, nowMs: number): boolean {
    const size = ID_BYTES + 8 + HEADER_BYTES + stored.length + record.bytes.length;
    if (this.pendingFor(target) >= this.limits.perTargetMax ||
        this.bytes + size > this.limits.bytesMax) {
      this.stats.refused++;
      return false;
    }
    const value = Buffer.allocUnsafe(HEADER_BYTES + stored.length + record.bytes.length);
    value.writeUIntBE(nowMs, 0, 6);
    value.writeUInt16BE(stored.length, 6);
    stored.copy(value, HEADER_BYTES);
    record.bytes.copy(value, HEADER_BYTES + stored.length);
    this.table.put(hintKey(target, this.nextSequence++), value);
    this.perTarget.set(target, this.pendingFor(target) + 1);
    this.bytes += size;
    this.stats.stored++;
    return true;
  }

  /**
   * The oldest hints for a target, at most `limit`; hints past their age are removed on
   * the way (they are counted as expired, and anti-entropy repairs what they held).
   */
  batch(target: string, limit: number, nowMs: number): Hint[] {
    const hints: Hint[] = [];
    const entries = this.table.range(targetPrefix(target), afterLastOf(target), limit);
    for (const [key, value] of entries) {
      const hint = decodeHint(key, value);
      if (hint === null || nowMs - hint.createdMs > this.limits.ttlMs) {
        this.remove(key, value.length, hint === null ? 'corrupt' : 'expired');
        continue;
      }
      hints.push(hint);
    }
    return hints;
  }

  /** The hint reached its replica. */
  delivered(hint: Hint): void {
    this.remove(hint.key, HEADER_BYTES + hint.stored.length + hint.record.bytes.length,
      'delivered');
  }

  private remove(key: Buffer, valueBytes: number, why: 'delivered' | 'expired' | 'corrupt'):
      void {
    const target = key.subarray(0, ID_BYTES).toString('hex');
    this.table.remove(key);
    const left = this.pendingFor(target) - 1;
    if (left <= 0) this.perTarget.delete(target);
    else this.perTarget.set(target, left);
    this.bytes = Math.max(0, this.bytes - key.length - valueBytes);
    if (why === 'delivered') this.stats.delivered++;
    else if (why === 'expired') this.stats.expired++;
    else this.stats.corrupt++;
  }
}

function decodeHint(key: Buffer, value: Buffer): Hint | null {
  if (value.length < HEADER_BYTES) return null;
  const storedLength = value.readUInt16BE(6);
  if (HEADER_BYTES + storedLength > value.length) return null;
  const recordBytes = value.subarray(HEADER_BYTES + storedLength);
  if (recordProblem(recordBytes) !== null) return null;
  return {
    key,
    createdMs: value.readUIntBE(0, 6),
    stored: value.subarray(HEADER_BYTES, HEADER_BYTES + storedLength),
    record: new StoredRecord(recordBytes),
  };
}
