/**
 * The PEER.* commands a replica serves on the peer port (DESIGN.md section 6). Their names
 * and argument layouts are pinned by test/compat (mixed-version clusters depend on them).
 *
 *   PEER.GET <db> <key>               -> the stored record (tombstones included) or nil
 *   PEER.PUT <db> <key> <record>      -> :1 stored, :0 this replica already had a newer one;
 *                                        the reply leaves once the write is durable
 *   PEER.GOSSIP <json>                -> this node's gossip message (push-pull)
 */
import { keySlot } from '../cluster/key-slot.js';
import type { GossipMessage } from '../cluster/membership.js';
import { DATABASES_COUNT } from '../config/limits.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { LocalStore } from '../storage/local-store.js';
import { StoredRecord, recordProblem } from '../storage/record.js';
import type { PeerHandler, PeerSession } from '../transport/peer-listener.js';
import type { Version } from '../versioning/version.js';

export interface PeerCommandDependencies {
  store: LocalStore;
  /** Merges a gossip message and returns this node's own. */
  gossip(message: GossipMessage, fromPeer: string): GossipMessage;
  /** Counts writes refused because their record was corrupt. */
  onCorruptRecord(peer: string): void;
  /** Moves this node's clock past a version it stores (hybrid logical clock). */
  observe(version: Version): void;
}

function parseDb(arg: Buffer | undefined, out: ReplyWriter): number | null {
  // Coordinators send the decimal number: a single digit is read in place (no string).
  const digit = arg?.length === 1 ? (arg[0] as number) - 48 : -1;
  const db = digit >= 0 && digit <= 9 ? digit : Number(arg?.toString());
  if (!Number.isInteger(db) || db < 0 || db >= DATABASES_COUNT) {
    out.error('ERR invalid database');
    return null;
  }
  return db;
}

export function peerCommands(dependencies: PeerCommandDependencies): Map<string, PeerHandler> {
  const { store } = dependencies;
  const handlers = new Map<string, PeerHandler>();

  handlers.set('PEER.GET', (_session, args, out) => {
    if (args.length !== 3) return out.error('ERR wrong number of arguments for PEER.GET');
    const db = parseDb(args[1], out);
    if (db === null) return;
    const key = args[2] as Buffer;
    const record = store.read(db, keySlot(key), key);
    if (record === undefined) out.nil();
    else out.bulk(record.bytes);
  });

  handlers.set('PEER.PUT', (session: PeerSession, args, out) => {
    if (args.length !== 4) return out.error('ERR wrong number of arguments for PEER.PUT');
    const db = parseDb(args[1], out);
    if (db === null) return;
    const key = args[2] as Buffer;
    const bytes = args[3] as Buffer;
    const problem = recordProblem(bytes);
    if (problem !== null) {
      dependencies.onCorruptRecord(session.peerId);
      return out.error(`ERR invalid record: ${problem}`);
    }
    // A view of the socket chunk is enough: the store copies what it keeps.
    const record = new StoredRecord(bytes);
    dependencies.observe(record);
    const stored = store.writeIfNewer(db, keySlot(key), key, record);
    out.integer(stored ? 1 : 0);
    if (stored) store.whenDurable(session, session.hold());
  });

  handlers.set('PEER.GOSSIP', (session, args, out) => {
    if (args.length !== 2) return out.error('ERR wrong number of arguments for PEER.GOSSIP');
    let message: GossipMessage;
    try {
      message = JSON.parse((args[1] as Buffer).toString()) as GossipMessage;
    } catch {
      return out.error('ERR invalid gossip message');
    }
    const reply = dependencies.gossip(message, session.peerId);
    out.bulkString(JSON.stringify(reply));
  });

  return handlers;
}
