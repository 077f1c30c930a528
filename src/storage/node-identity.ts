/**
 * The node's identity, kept in the data directory (never derived from its address, so a
 * node keeps it across restarts and IP changes): a 40-hex-character id, as Redis Cluster
 * node ids look, and the 32-bit tag derived from it that breaks version ties.
 */
import { randomBytes } from 'node:crypto';
import type { StorageTable } from './engine.js';

const NODE_ID_KEY = Buffer.from('node-id');

export interface NodeIdentity {
  nodeId: string;
  nodeTag: number;
  /** True when this data directory was empty and the id was just minted. */
  fresh: boolean;
}

export function nodeTagOf(nodeId: string): number {
  return Number.parseInt(nodeId.slice(0, 8), 16) >>> 0;
}

/**
 * The id kept in `meta`; on an empty directory, `configured` (cluster-node-id: a node whose
 * disk was replaced comes back as the member it was) or a new random id.
 */
export function loadNodeIdentity(meta: StorageTable, configured = ''): NodeIdentity {
  const stored = meta.get(NODE_ID_KEY);
  if (stored !== undefined) {
    const nodeId = stored.toString('latin1');
    if (configured !== '' && configured !== nodeId) {
      throw new Error(`the data directory belongs to node ${nodeId}, ` +
        `not to cluster-node-id ${configured}`);
    }
    return { nodeId, nodeTag: nodeTagOf(nodeId), fresh: false };
  }
  const nodeId = configured !== '' ? configured : randomBytes(20).toString('hex');
  meta.put(NODE_ID_KEY, Buffer.from(nodeId, 'latin1'));
  return { nodeId, nodeTag: nodeTagOf(nodeId), fresh: true };
}
