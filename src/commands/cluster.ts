/**
 * CLUSTER commands, READONLY / READWRITE / ASKING and CONSISTENCY.
 *
 * Standalone (no cluster settings) a node answers CLUSTER like a Redis with cluster support
 * disabled. In cluster mode it presents the ring through the Redis Cluster model
 * (cluster/presentation.ts) so cluster-aware clients route each key to a replica; it never
 * redirects, since any node coordinates any key.
 */
import { keySlot, SLOT_COUNT } from '../cluster/key-slot.js';
import type { MemberAddress } from '../cluster/membership.js';
import {
  clusterInfo,
  clusterNodesText,
  presentRanges,
  primaryRanges,
  primarySpans,
  type PresentedMember,
  type PresentedRange,
} from '../cluster/presentation.js';
import type { Ring } from '../cluster/ring.js';
import { levelName, parseLevel, requiredReplicas, type Level } from '../coordinator/consistency.js';
import { errors } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { writeHelp } from './connection.js';
import { parseSafeInteger } from './numbers.js';
import type { Client } from './spec.js';

/** What the CLUSTER commands need from the node (provided by the cluster runtime). */
export interface ClusterService {
  readonly selfId: string;
  ring(): Ring;
  /** Every member (this node included) with address and liveness, sorted by id. */
  members(): PresentedMember[];
  meet(address: MemberAddress): void;
  forget(id: string): boolean;
  /** Keys this node stores in a slot (all databases), up to `count`. */
  keysInSlot(slot: number, count: number): Buffer[];
  countKeysInSlot(slot: number): number;
  /** Starts a Merkle exchange with every peer now (anti-entropy). */
  repair(): void;
  /** Hands this node's data to the remaining members, then stops it; false if leaving. */
  leave(): boolean;
}

const CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';

function service(client: Client, out: ReplyWriter): ClusterService | null {
  const cluster = client.server.cluster;
  if (cluster === null) out.error(CLUSTER_DISABLED);
  return cluster;
}

function ranges(cluster: ClusterService): { ranges: PresentedRange[]; members: PresentedMember[] } {
  const members = cluster.members();
  const byId = new Map(members.map((member) => [member.id, member]));
  return { ranges: presentRanges(cluster.ring(), byId), members };
}

function writeNode(out: ReplyWriter, member: PresentedMember): void {
  out.arrayHeader(4);
  out.bulkString(member.address.host);
  out.integer(member.address.port);
  out.bulkString(member.id);
  out.mapHeader(0);
}

export function clusterSlotsCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const presented = ranges(cluster).ranges;
  out.arrayHeader(presented.length);
  for (const range of presented) {
    out.arrayHeader(2 + range.nodes.length);
    out.integer(range.start);
    out.integer(range.end);
    for (const node of range.nodes) writeNode(out, node);
  }
}

export function clusterShardsCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const { ranges: presented, members } = ranges(cluster);
  const masters = members.filter((member) => primaryRanges(presented, member.id).length > 0);
  out.arrayHeader(masters.length);
  for (const master of masters) {
    const owned = presented.filter((range) => range.nodes[0]?.id === master.id);
    const replicaIds = new Set<string>();
    for (const range of owned) for (const node of range.nodes.slice(1)) replicaIds.add(node.id);
    const nodes = [master, ...members.filter((member) => replicaIds.has(member.id))];
    // Merged spans, as CLUSTER NODES lists them: Redis never splits a shard's adjacent slots.
    const spans = primarySpans(presented, master.id);
    out.mapHeader(2);
    out.bulkString('slots');
    out.arrayHeader(spans.length * 2);
    for (const [start, end] of spans) {
      out.integer(start);
      out.integer(end);
    }
    out.bulkString('nodes');
    out.arrayHeader(nodes.length);
    for (const node of nodes) writeShardNode(out, node, node === master);
  }
}

function writeShardNode(out: ReplyWriter, node: PresentedMember, master: boolean): void {
  out.mapHeader(7);
  out.bulkString('id');
  out.bulkString(node.id);
  out.bulkString('port');
  out.integer(node.address.port);
  out.bulkString('ip');
  out.bulkString(node.address.host);
  out.bulkString('endpoint');
  out.bulkString(node.address.host);
  out.bulkString('role');
  out.bulkString(master ? 'master' : 'replica');
  out.bulkString('replication-offset');
  out.integer(0);
  out.bulkString('health');
  out.bulkString(node.liveness === 'down' ? 'fail' : 'online');
}

export function clusterNodesCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const { ranges: presented, members } = ranges(cluster);
  out.verbatim(clusterNodesText(presented, members, cluster.selfId));
}

export function clusterInfoCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const { ranges: presented, members } = ranges(cluster);
  const info = clusterInfo(presented, members.length);
  const ring = cluster.ring();
  const lines = [
    `cluster_state:${info.state}`,
    `cluster_slots_assigned:${info.slotsAssigned}`,
    `cluster_slots_ok:${info.slotsOk}`,
    `cluster_slots_pfail:${info.slotsPfail}`,
    `cluster_slots_fail:${info.slotsFail}`,
    `cluster_known_nodes:${info.knownNodes}`,
    `cluster_size:${info.size}`,
    `cluster_current_epoch:${Math.max(0, ...members.map((member) => member.incarnation))}`,
    `cluster_my_epoch:${members.find((member) => member.id === cluster.selfId)?.incarnation ?? 0}`,
    'cluster_stats_messages_sent:0',
    'cluster_stats_messages_received:0',
    'total_cluster_links_buffer_limit_exceeded:0',
    `cluster_replication_factor:${ring.replicationFactor}`,
    `cluster_effective_replicas:${ring.effectiveReplicas}`,
  ];
  out.verbatim(`${lines.join('\r\n')}\r\n`);
}

export function clusterMyidCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster !== null) out.bulkString(cluster.selfId);
}

export function clusterKeyslotCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  // Redis answers KEYSLOT even with cluster support disabled? It does not: same error.
  if (service(client, out) === null) return;
  out.integer(keySlot(args[2] as Buffer));
}

function parseSlot(arg: Buffer, out: ReplyWriter): number | null {
  const slot = parseSafeInteger(arg);
  if (slot === null || slot < 0 || slot >= SLOT_COUNT) {
    out.error('ERR Invalid or out of range slot');
    return null;
  }
  return slot;
}

export function clusterCountkeysinslotCommand(client: Client, args: Buffer[],
    out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const slot = parseSlot(args[2] as Buffer, out);
  if (slot !== null) out.integer(cluster.countKeysInSlot(slot));
}

export function clusterGetkeysinslotCommand(client: Client, args: Buffer[],
    out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const slot = parseSlot(args[2] as Buffer, out);
  if (slot === null) return;
  const count = parseSafeInteger(args[3] as Buffer);
  if (count === null || count < 0) {
    out.error('ERR Invalid number of keys');
    return;
  }
  const keys = cluster.keysInSlot(slot, count);
  out.arrayHeader(keys.length);
  for (const key of keys) out.bulk(key);
}

export function clusterMeetCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const host = (args[2] as Buffer).toString();
  const port = parseSafeInteger(args[3] as Buffer);
  const busPort = args.length > 4 ? parseSafeInteger(args[4] as Buffer) : (port ?? 0) + 10000;
  if (port === null || busPort === null || port < 1 || port > 65535 || busPort < 1 ||
      busPort > 65535) {
    const portText = (args[3] as Buffer).toString('latin1');
    out.error(`ERR Invalid node address specified: ${host}:${portText}`);
    return;
  }
  cluster.meet({ host, port, busPort });
  out.ok();
}

export function clusterForgetCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const id = (args[2] as Buffer).toString();
  if (id === cluster.selfId) {
    out.error("ERR I tried hard but I can't forget myself...");
    return;
  }
  if (!cluster.forget(id)) {
    out.error(`ERR Unknown node ${id}`);
    return;
  }
  out.ok();
}

/** CLUSTER RING: every member's token count, tokens and share of the slots. */
export function clusterRingCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const ring = cluster.ring();
  const ownership = ring.ownership();
  out.arrayHeader(ring.members.length);
  ring.members.forEach((member, index) => {
    const owned = ownership[index] as { primary: number; replica: number };
    const tokens = ring.tokensOf(index);
    out.mapHeader(6);
    out.bulkString('id');
    out.bulkString(member.id);
    out.bulkString('rack');
    out.bulkString(member.rack);
    out.bulkString('tokens');
    out.integer(tokens.length);
    out.bulkString('primary-slots');
    out.integer(owned.primary);
    out.bulkString('ownership');
    out.bulkString((owned.primary / SLOT_COUNT).toFixed(4));
    out.bulkString('token-positions');
    out.arrayHeader(tokens.length);
    for (const token of tokens) out.integer(token);
  });
}

/** CLUSTER PREFLIST key: the key's slot and its replicas in preference order, with state. */
export function clusterPreflistCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  const slot = keySlot(args[2] as Buffer);
  const ring = cluster.ring();
  const members = new Map(cluster.members().map((member) => [member.id, member]));
  const list = ring.preferenceList(slot);
  out.arrayHeader(list.length);
  for (const index of list) {
    const id = (ring.members[index] as { id: string }).id;
    const member = members.get(id);
    out.mapHeader(5);
    out.bulkString('id');
    out.bulkString(id);
    out.bulkString('slot');
    out.integer(slot);
    out.bulkString('host');
    out.bulkString(member?.address.host ?? '');
    out.bulkString('port');
    out.integer(member?.address.port ?? 0);
    out.bulkString('state');
    out.bulkString(member?.liveness ?? 'down');
  }
}

/** CLUSTER REPAIR: anti-entropy with every peer now; progress in INFO (anti_entropy_*). */
export function clusterRepairCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  cluster.repair();
  out.simple('Background repair started');
}

/** CLUSTER LEAVE: hand this node's slots to the others, leave the ring, then stop. */
export function clusterLeaveCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  const cluster = service(client, out);
  if (cluster === null) return;
  if (!cluster.leave()) {
    out.error('ERR this node is already leaving the cluster');
    return;
  }
  out.ok();
}

export function clusterHelpCommand(_client: Client, _args: Buffer[], out: ReplyWriter): void {
  writeHelp(out, [
    'CLUSTER <subcommand> [<arg> ...]. RingKV answers these subcommands:',
    'INFO | NODES | SLOTS | SHARDS | MYID',
    '    The ring as Redis Cluster clients read it (first replica of a range = master).',
    'KEYSLOT <key> | COUNTKEYSINSLOT <slot> | GETKEYSINSLOT <slot> <count>',
    '    Slot of a key; keys this node stores in a slot.',
    'MEET <ip> <port> [<bus-port>] | FORGET <node-id>',
    '    Add a node (it joins by gossip) or remove a dead one.',
    'RING',
    '    Tokens and slot ownership of every node.',
    'PREFLIST <key>',
    '    The replicas of a key in preference order, with their state.',
    'REPAIR',
    '    Run anti-entropy (Merkle exchange) with every peer now; progress in INFO.',
    'LEAVE',
    '    Hand this node\'s data to the other members, leave the ring, then stop.',
    'HELP',
    '    This text.',
  ]);
}

/** READONLY / READWRITE / ASKING: accepted in cluster mode (every node serves every key). */
export function readonlyCommand(client: Client, _args: Buffer[], out: ReplyWriter): void {
  if (service(client, out) !== null) out.ok();
}

// CONSISTENCY -------------------------------------------------------------------------------

/**
 * CONSISTENCY                              -> the connection's levels
 * CONSISTENCY ONE|QUORUM|ALL|<n>           -> both reads and writes
 * CONSISTENCY READ <level> [WRITE <level>] (either order, either alone)
 */
export function consistencyCommand(client: Client, args: Buffer[], out: ReplyWriter): void {
  const replicas = client.server.replicationFactor();
  if (args.length === 1) {
    writeConsistency(client, out, replicas);
    return;
  }
  let read: Level | null = null;
  let write: Level | null = null;
  if (args.length === 2) {
    const level = parseLevel((args[1] as Buffer).toString());
    if (level === null) return out.error(consistencyError(args[1] as Buffer));
    read = level;
    write = level;
  } else {
    for (let index = 1; index < args.length; index += 2) {
      const which = (args[index] as Buffer).toString().toLowerCase();
      const value = args[index + 1];
      if (value === undefined || (which !== 'read' && which !== 'write')) {
        return out.error(errors.syntax);
      }
      const level = parseLevel(value.toString());
      if (level === null) return out.error(consistencyError(value));
      if (which === 'read') read = level;
      else write = level;
    }
  }
  for (const level of [read, write]) {
    if (typeof level === 'number' && level > replicas) {
      return out.error(`ERR consistency level ${level} exceeds the replication factor ${replicas}`);
    }
  }
  client.consistency = {
    read: read ?? client.consistency.read,
    write: write ?? client.consistency.write,
  };
  out.ok();
}

function consistencyError(arg: Buffer): string {
  return `ERR invalid consistency level '${arg.toString('latin1')}': use ONE, QUORUM, ALL or a ` +
    'number of replicas';
}

function writeConsistency(client: Client, out: ReplyWriter, replicas: number): void {
  const { read, write } = client.consistency;
  out.mapHeader(5);
  out.bulkString('read');
  out.bulkString(levelName(read));
  out.bulkString('write');
  out.bulkString(levelName(write));
  out.bulkString('replication-factor');
  out.integer(replicas);
  out.bulkString('read-replicas');
  out.integer(requiredReplicas(read, replicas));
  out.bulkString('write-replicas');
  out.integer(requiredReplicas(write, replicas));
}
