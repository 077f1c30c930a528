/**
 * Anti-entropy comparison (DESIGN.md section 8), pure. Each node keeps a 64-bit digest per
 * slot, updated on every write (storage/local-store.ts). Two replicas compare a two-level
 * hash tree over the slots they both hold: the root level is one hash per block of
 * BLOCK_SLOTS slots; only blocks that differ are opened to their slot digests, and only
 * slots that differ are compared record by record (stored key and version), giving the
 * records to pull and to push. Slots neither side should compare are masked out, so each
 * pair of nodes compares exactly the slots both replicate.
 */
import { murmur3 } from '../util/murmur3.js';
import { compareVersions, type Version } from '../versioning/version.js';

export const SLOT_COUNT = 16384;
export const BLOCK_SLOTS = 128;
export const BLOCK_COUNT = SLOT_COUNT / BLOCK_SLOTS;

export interface DigestSource {
  /** A slot's 64-bit digest as [high, low] 32-bit halves. */
  slotDigest(slot: number): [number, number];
}

const BLOCK_SEED_HIGH = 0x1b873593;
const BLOCK_SEED_LOW = 0xcc9e2d51;

/**
 * One 64-bit hash per block (2 x u32 per block, high then low) over the digests of the
 * block's shared slots; a block with no shared slot hashes to 0.
 */
export function blockHashes(source: DigestSource, shared: (slot: number) => boolean):
    Uint32Array {
  const hashes = new Uint32Array(BLOCK_COUNT * 2);
  const scratch = Buffer.alloc(BLOCK_SLOTS * 8);
  for (let block = 0; block < BLOCK_COUNT; block++) {
    scratch.fill(0);
    let any = false;
    for (let offset = 0; offset < BLOCK_SLOTS; offset++) {
      const slot = block * BLOCK_SLOTS + offset;
      if (!shared(slot)) continue;
      any = true;
      const [high, low] = source.slotDigest(slot);
      scratch.writeUInt32BE(high, offset * 8);
      scratch.writeUInt32BE(low, offset * 8 + 4);
    }
    if (!any) continue;
    hashes[block * 2] = murmur3(scratch, BLOCK_SEED_HIGH);
    hashes[block * 2 + 1] = murmur3(scratch, BLOCK_SEED_LOW);
  }
  return hashes;
}

/** Indices of the entries (blocks or slots, 2 x u32 each) where two hash arrays differ. */
export function differingEntries(local: Uint32Array, remote: Uint32Array): number[] {
  const count = Math.min(local.length, remote.length) / 2;
  const differing: number[] = [];
  for (let index = 0; index < count; index++) {
    if (local[index * 2] !== remote[index * 2] ||
        local[index * 2 + 1] !== remote[index * 2 + 1]) {
      differing.push(index);
    }
  }
  return differing;
}

/** The digests (2 x u32 each) of the listed slots; 0 for slots that are not shared. */
export function slotDigests(source: DigestSource, slots: readonly number[],
    shared: (slot: number) => boolean): Uint32Array {
  const digests = new Uint32Array(slots.length * 2);
  slots.forEach((slot, index) => {
    if (!shared(slot)) return;
    const [high, low] = source.slotDigest(slot);
    digests[index * 2] = high;
    digests[index * 2 + 1] = low;
  });
  return digests;
}

export function blockSlots(block: number): number[] {
  return Array.from({ length: BLOCK_SLOTS }, (_, offset) => block * BLOCK_SLOTS + offset);
}

/** What one side holds for a stored key: enough to decide who has the newer record. */
export interface EntrySummary {
  stored: Buffer;
  version: Version;
}

export interface SlotRepairPlan {
  /** Stored keys the peer has newer (or only the peer has): fetch and apply them. */
  pull: Buffer[];
  /** Stored keys we have newer (or only we have): send them. */
  push: Buffer[];
}

/**
 * Compares two replicas' summaries of one slot (each sorted by stored key) and says which
 * records move which way. Equal versions are the same write, so nothing moves.
 *
 * `settledBeforeMs` (null: every difference moves): a difference whose newer record was
 * written at or after this time is left alone. Such a write may still be on its way (its
 * coordinator is sending it, or a hint will), and the two summaries are taken at different
 * moments: under a steady write load a slot's scan found thousands of keys written in
 * between, and moving them duplicated the write path's work. A difference that outlives
 * the window is repaired by a later pass.
 */
export function planSlotRepair(local: readonly EntrySummary[],
    remote: readonly EntrySummary[], settledBeforeMs: number | null = null): SlotRepairPlan {
  const plan: SlotRepairPlan = { pull: [], push: [] };
  const settled = (entry: EntrySummary): boolean =>
    settledBeforeMs === null || entry.version.physicalMs < settledBeforeMs;
  let i = 0;
  let j = 0;
  while (i < local.length || j < remote.length) {
    const mine = local[i];
    const theirs = remote[j];
    const order = mine === undefined ? 1 : theirs === undefined ? -1
      : Buffer.compare(mine.stored, theirs.stored);
    if (order < 0) {
      if (settled(mine as EntrySummary)) plan.push.push((mine as EntrySummary).stored);
      i++;
    } else if (order > 0) {
      if (settled(theirs as EntrySummary)) plan.pull.push((theirs as EntrySummary).stored);
      j++;
    } else {
      const newer = compareVersions((mine as EntrySummary).version,
        (theirs as EntrySummary).version);
      if (newer < 0 && settled(theirs as EntrySummary)) {
        plan.pull.push((theirs as EntrySummary).stored);
      } else if (newer > 0 && settled(mine as EntrySummary)) {
        plan.push.push((mine as EntrySummary).stored);
      }
      i++;
      j++;
    }
  }
  return plan;
}

/** Wire form of summaries: u16 key length, stored key, u48 ms, u16 logical, u32 node tag. */
export function encodeSummaries(entries: readonly EntrySummary[]): Buffer {
  let size = 0;
  for (const entry of entries) size += 2 + entry.stored.length + 12;
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const { stored, version } of entries) {
    bytes.writeUInt16BE(stored.length, offset);
    stored.copy(bytes, offset + 2);
    offset += 2 + stored.length;
    bytes.writeUIntBE(version.physicalMs, offset, 6);
    bytes.writeUInt16BE(version.logical, offset + 6);
    bytes.writeUInt32BE(version.nodeTag, offset + 8);
    offset += 12;
  }
  return bytes;
}

/** Decodes summaries; null when the bytes are malformed. */
export function decodeSummaries(bytes: Buffer): EntrySummary[] | null {
  const entries: EntrySummary[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) return null;
    const length = bytes.readUInt16BE(offset);
    const end = offset + 2 + length + 12;
    if (end > bytes.length) return null;
    const stored = Buffer.from(bytes.subarray(offset + 2, offset + 2 + length));
    const at = offset + 2 + length;
    entries.push({ stored, version: { physicalMs: bytes.readUIntBE(at, 6),
      logical: bytes.readUInt16BE(at + 6), nodeTag: bytes.readUInt32BE(at + 8) } });
    offset = end;
  }
  return entries;
}
