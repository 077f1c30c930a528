/**
 * How the ring is presented through the Redis Cluster model (DESIGN.md section 9, COMPAT.md
 * A5), so cluster-aware clients route keys to their replicas: for each range of slots with
 * the same preference list, its first replica is the "master" and the others its
 * "replicas". Pure: built from the ring and each member's address and liveness, so every
 * node (with the same view) answers CLUSTER SLOTS / SHARDS / NODES / INFO identically.
 */
import type { Liveness, MemberAddress } from './membership.js';
import type { Ring } from './ring.js';

export interface PresentedMember {
  id: string;
  address: MemberAddress;
  liveness: Liveness;
  /** Ms timestamp of the last heartbeat seen (0 if never); CLUSTER NODES pong-recv. */
  lastHeartbeatMs: number;
  incarnation: number;
}

export interface PresentedRange {
  start: number;
  end: number;
  /** Preference list, first replica first. */
  nodes: PresentedMember[];
}

export function presentRanges(ring: Ring, members: ReadonlyMap<string, PresentedMember>):
    PresentedRange[] {
  return ring.slotRanges().map((range) => ({
    start: range.start,
    end: range.end,
    nodes: range.members.map((index) => {
      const id = (ring.members[index] as { id: string }).id;
      return members.get(id) ?? missingMember(id);
    }),
  }));
}

function missingMember(id: string): PresentedMember {
  return { id, address: { host: '', port: 0, busPort: 0 }, liveness: 'down',
    lastHeartbeatMs: 0, incarnation: 0 };
}

/**
 * Slot spans where a member is the first replica, adjacent ranges merged (ranges that differ
 * only in their other replicas are one span to a Redis Cluster client: NODES and SHARDS).
 */
export function primarySpans(ranges: readonly PresentedRange[], id: string):
    Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const range of ranges) {
    if (range.nodes[0]?.id !== id) continue;
    const last = spans[spans.length - 1];
    if (last !== undefined && last[1] + 1 === range.start) last[1] = range.end;
    else spans.push([range.start, range.end]);
  }
  return spans;
}

/** Slot ranges where a member is the first replica, as "a-b" strings. */
export function primaryRanges(ranges: readonly PresentedRange[], id: string): string[] {
  return primarySpans(ranges, id)
    .map(([start, end]) => (start === end ? `${start}` : `${start}-${end}`));
}

/** The CLUSTER NODES text: one line per member, every member presented as a master. */
export function clusterNodesText(ranges: readonly PresentedRange[],
    members: readonly PresentedMember[], selfId: string): string {
  const lines: string[] = [];
  for (const member of members) {
    const flags = [member.id === selfId ? 'myself' : '', 'master',
      member.liveness === 'down' ? 'fail' : member.liveness === 'suspect' ? 'fail?' : '']
      .filter(Boolean).join(',');
    const { host, port, busPort } = member.address;
    const pong = member.id === selfId ? 0 : member.lastHeartbeatMs;
    const link = member.id === selfId || member.liveness !== 'down' ? 'connected'
      : 'disconnected';
    const slots = primaryRanges(ranges, member.id);
    lines.push([member.id, `${host}:${port}@${busPort}`, flags, '-', '0', String(pong),
      String(member.incarnation), link, ...slots].join(' '));
  }
  return `${lines.join('\n')}\n`;
}

export interface ClusterInfoFields {
  state: 'ok' | 'fail';
  slotsAssigned: number;
  slotsOk: number;
  slotsPfail: number;
  slotsFail: number;
  knownNodes: number;
  size: number;
}

/**
 * cluster_state is ok while every slot range has at least one reachable replica (we are
 * available as long as one replica of each key answers; quorums are per request).
 */
export function clusterInfo(ranges: readonly PresentedRange[], knownNodes: number):
    ClusterInfoFields {
  let ok = 0;
  let pfail = 0;
  let fail = 0;
  const masters = new Set<string>();
  for (const range of ranges) {
    const slots = range.end - range.start + 1;
    const first = range.nodes[0];
    if (first !== undefined) masters.add(first.id);
    if (range.nodes.every((node) => node.liveness === 'down')) fail += slots;
    else if (first !== undefined && first.liveness !== 'alive') pfail += slots;
    else ok += slots;
  }
  const assigned = ok + pfail + fail;
  return {
    state: fail === 0 && assigned > 0 ? 'ok' : 'fail',
    slotsAssigned: assigned,
    slotsOk: ok,
    slotsPfail: pfail,
    slotsFail: fail,
    knownNodes,
    size: masters.size,
  };
}
