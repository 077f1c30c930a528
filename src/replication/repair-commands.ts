/**
 * PEER.* commands for anti-entropy, streaming and hinted handoff (DESIGN.md section 8).
 * Records move by stored key (slot, database, key), so whole slots can be compared and
 * copied without knowing their databases. Names and layouts are pinned by test/compat.
 *
 *   PEER.BLOCKS                      -> block hashes over the slots shared with the caller
 *   PEER.SLOTDIGESTS <block> ...     -> the slot digests of those blocks (shared slots only)
 *   PEER.SLOTKEYS <slot> <after> <n> -> [cursor, summaries (stored key, version)] of up to
 *                                       n records after `after` ("" from the start);
 *                                       the cursor is "" once the slot is done
 *   PEER.GETSTORED <stored> ...      -> the records (nil for missing)
 *   PEER.PUTSTORED <stored> <record> -> :1 stored, :0 had a newer one; after durability
 */
import {
  blockHashes,
  blockSlots,
  BLOCK_COUNT,
  encodeSummaries,
  slotDigests,
} from '../antientropy/merkle.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { LocalStore } from '../storage/local-store.js';
import { StoredRecord, recordProblem } from '../storage/record.js';
import type { PeerHandler } from '../transport/peer-listener.js';
import type { Version } from '../versioning/version.js';

/** Records a PEER.SLOTKEYS reply may carry at most. */
export const SLOT_KEYS_PAGE_MAX = 4096;
/** Stored keys one PEER.GETSTORED may name at most. */
export const GET_STORED_MAX = 512;
const SLOT_COUNT = 16384;

export interface RepairCommandDependencies {
  store: LocalStore;
  /** The slots this node and `peer` both replicate. */
  sharedWith(peer: string): (slot: number) => boolean;
  nowMs(): number;
  /** Counts records received this way (INFO). */
  onStored(bytes: number): void;
  /** Moves this node's clock past a version it stores (hybrid logical clock). */
  observe(version: Version): void;
}

function uint32Bytes(values: Uint32Array): Buffer {
  const bytes = Buffer.allocUnsafe(values.length * 4);
  values.forEach((value, index) => bytes.writeUInt32BE(value, index * 4));
  return bytes;
}

function integerArg(arg: Buffer | undefined, max: number): number | null {
  const value = Number(arg?.toString());
  return Number.isInteger(value) && value >= 0 && value <= max ? value : null;
}

export function repairCommands(dependencies: RepairCommandDependencies):
    Map<string, PeerHandler> {
  const { store } = dependencies;
  const handlers = new Map<string, PeerHandler>();

  handlers.set('PEER.BLOCKS', (session, _args, out) => {
    out.bulk(uint32Bytes(blockHashes(store, dependencies.sharedWith(session.peerId))));
  });

  handlers.set('PEER.SLOTDIGESTS', (session, args, out) => {
    const shared = dependencies.sharedWith(session.peerId);
    const slots: number[] = [];
    for (let index = 1; index < args.length; index++) {
      const block = integerArg(args[index], BLOCK_COUNT - 1);
      if (block === null) return out.error('ERR invalid block');
      slots.push(...blockSlots(block));
    }
    out.bulk(uint32Bytes(slotDigests(store, slots, shared)));
  });

  handlers.set('PEER.SLOTKEYS', (_session, args, out) => {
    const slot = integerArg(args[1], SLOT_COUNT - 1);
    const limit = integerArg(args[3], SLOT_KEYS_PAGE_MAX);
    if (slot === null || limit === null || args.length !== 4) {
      return out.error('ERR usage: PEER.SLOTKEYS <slot> <after> <count>');
    }
    const after = (args[2] as Buffer).length === 0 ? null : args[2] as Buffer;
    const nowMs = dependencies.nowMs();
    const page = store.slotEntries(slot, after, limit);
    // Tombstones whose grace period is over are about to be purged: not worth moving.
    const live = page.entries.filter(([, record]) =>
      !record.tombstone || record.expireAtMs > nowMs);
    out.arrayHeader(2);
    // The cursor to continue after, or "" when this page reached the end of the slot.
    out.bulk(page.next === null || limit === 0 ? Buffer.alloc(0) : page.next);
    out.bulk(encodeSummaries(live.map(([stored, record]) => ({
      stored, version: record.version }))));
  });

  handlers.set('PEER.GETSTORED', (_session, args, out) => {
    if (args.length < 2 || args.length - 1 > GET_STORED_MAX) {
      return out.error('ERR usage: PEER.GETSTORED <stored-key> ...');
    }
    out.arrayHeader(args.length - 1);
    for (let index = 1; index < args.length; index++) {
      const record = store.readStored(args[index] as Buffer);
      if (record === undefined) out.nil();
      else out.bulk(record.bytes);
    }
  });

  handlers.set('PEER.PUTSTORED', (session, args, out) => {
    if (args.length !== 3) return out.error('ERR usage: PEER.PUTSTORED <stored-key> <record>');
    putStored(dependencies, session, args[1] as Buffer, args[2] as Buffer, out);
  });

  return handlers;
}

function putStored(dependencies: RepairCommandDependencies,
    session: Parameters<PeerHandler>[0], stored: Buffer, bytes: Buffer, out: ReplyWriter):
    void {
  const problem = recordProblem(bytes);
  if (problem !== null || stored.length < 3) {
    return out.error(`ERR invalid record: ${problem ?? 'stored key too short'}`);
  }
  // Views of the socket chunk are enough: the store copies what it keeps (as PEER.PUT).
  const record = new StoredRecord(bytes);
  dependencies.observe(record);
  const applied = dependencies.store.writeStoredIfNewer(stored, record);
  out.integer(applied ? 1 : 0);
  if (applied) {
    dependencies.onStored(bytes.length);
    dependencies.store.whenDurable(session, session.hold());
  }
}
