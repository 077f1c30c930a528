/**
 * What a replica does with a versioned record, whether it came from the local coordinator,
 * a peer's PEER.PUT, read repair, a hint or anti-entropy: keep it only if it is newer than
 * what the replica holds (last write wins on the HLC version, node tag as tie-break), so
 * every replica converges to the same record whatever order writes arrive in.
 */
import type { LocalStore } from '../storage/local-store.js';
import type { StoredRecord } from '../storage/record.js';
import { compareVersions } from '../versioning/version.js';

/**
 * Stores `record` for the key unless the replica holds a record at least as new.
 * Returns true when the record was stored.
 */
export function applyReplicaWrite(store: LocalStore, db: number, slot: number, key: Buffer,
    record: StoredRecord): boolean {
  const current = store.read(db, slot, key);
  if (current !== undefined && compareVersions(current.version, record.version) >= 0) {
    return false;
  }
  store.write(db, slot, key, record);
  return true;
}

/** The same rule for a record addressed by its stored key (repair and streaming). */
export function applyStoredWrite(store: LocalStore, stored: Buffer, record: StoredRecord):
    boolean {
  const current = store.readStored(stored);
  if (current !== undefined && compareVersions(current.version, record.version) >= 0) {
    return false;
  }
  store.writeStored(stored, record);
  return true;
}
