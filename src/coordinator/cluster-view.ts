/**
 * What the coordinator needs to know about the cluster: the current ring, this node's id,
 * which members are down, and a way to send PEER.* requests. A standalone node has a ring
 * of one member (itself), so every key is local and every quorum is one.
 */
import { Ring } from '../cluster/ring.js';

export interface PeerLink {
  send(args: ReadonlyArray<Buffer | string>,
    callback: (error: Error | null, reply: unknown) => void): void;
}

export interface ClusterView {
  readonly selfId: string;
  /** True when the node presents itself as a cluster member (tombstones, CLUSTER ...). */
  readonly clusterMode: boolean;
  ring(): Ring;
  isDown(id: string): boolean;
  peer(id: string): PeerLink | null;
}

/** The view of a standalone node. */
export function standaloneView(selfId: string): ClusterView {
  const ring = new Ring([{ id: selfId, tokens: 1, rack: '' }], 1);
  return {
    selfId,
    clusterMode: false,
    ring: () => ring,
    isDown: () => false,
    peer: () => null,
  };
}
