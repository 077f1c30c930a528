/**
 * A cluster write's per-node cost below the sockets, in one process: what the cluster
 * benchmark (cluster-compare) cannot resolve on a shared 2-core machine, where runs of one
 * build differ by 20 % and more.
 *
 *   node dist/bench/micro/cluster-path.js [--rounds N] [--per-turn N]
 *
 * - `coordinated SET`: a SET at QUORUM through the Coordinator of a 3-node ring (N = 3)
 *   that holds every key, with its LocalStore and LMDB engine (overlay, commit log, writer
 *   thread). The two other replicas are stand-ins that take each PEER.PUT's arguments and
 *   acknowledge at the end of the turn; encoding the request for the socket is not included.
 * - `replica PEER.PUT`: PEER.PUT requests as a coordinator sends them (one input chunk per
 *   turn) decoded by the RequestDecoder and run by the peer command handler against a
 *   LocalStore, replies into a ReplyQueue.
 *
 * Keys are redis-benchmark --cluster's (`key:{06S}:%012d`, one hash tag, so one slot, as
 * each node sees them in cluster-compare) over 300k keys, values 100 bytes. Each turn runs
 * `--per-turn` operations (default 8) and then lets the event loop turn, which seals the
 * commit-log group and releases replies; both count. Keys are written into a few reused
 * buffers, hot in the CPU caches as a request's bytes are after the socket read.
 * Reports the median over rounds of microseconds per operation (wall, one thread's work
 * plus the turn) and of the process's CPU per operation (the writer thread included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring } from '../../src/cluster/ring.js';
import type { Client } from '../../src/commands/spec.js';
import { setCommand } from '../../src/commands/strings.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import type { ClusterView, PeerLink } from '../../src/coordinator/cluster-view.js';
import { RequestDecoder } from '../../src/protocol/request-decoder.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { peerCommands } from '../../src/replication/peer-commands.js';
import { systemClock } from '../../src/runtime/clock.js';
import { systemRandom } from '../../src/runtime/random.js';
import { ReplyQueue } from '../../src/server/reply-queue.js';
import { encodeRecord, ValueType } from '../../src/storage/record.js';
import type { PeerSession } from '../../src/transport/peer-listener.js';
import { median } from '../load/summary.js';
import { integerOption, machine } from './harness.js';
import { openStore } from './open-store.js';

const KEYS = 300_000;
const OPERATIONS_PER_ROUND = 60_000;
const VALUE = Buffer.alloc(100, 'x');
const KEY_PREFIX = 'key:{06S}:';
/** Buffers the keys are written into, round robin: more than a turn's operations hold. */
const KEY_BUFFERS = 64;

const rounds = integerOption(process.argv, '--rounds', 5, 100);
const perTurn = integerOption(process.argv, '--per-turn', 8, 1000);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Measured {
  wallUs: number;
  cpuUs: number;
}

/** A stride through the key space: every key visited, no Math.random in the loop. */
class Keys {
  private next = 0;
  private taken = 0;
  private readonly buffers = Array.from({ length: KEY_BUFFERS },
    () => Buffer.from(`${KEY_PREFIX}${'0'.repeat(12)}`, 'latin1'));

  take(): Buffer {
    this.next = (this.next + 7919) % KEYS;
    const key = this.buffers[this.taken++ % KEY_BUFFERS] as Buffer;
    key.write(String(this.next).padStart(12, '0'), KEY_PREFIX.length, 'latin1');
    return key;
  }
}

/** Runs `operations` in turns of perTurn; `run` does one turn's operations. */
async function timeTurns(operations: number, run: () => void, afterTurn: () => void):
    Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let done = 0; done < operations; done += perTurn) {
    run();
    await turn();
    afterTurn();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { wallUs: 1000 * (performance.now() - started) / operations,
    cpuUs: (cpu.user + cpu.system) / operations };
}

async function coordinatedSets(dir: string): Promise<Measured[]> {
  const { engine, store } = await openStore(dir);
  const ids = ['a', 'b', 'c'].map((letter) => letter.repeat(40));
  const ring = new Ring(ids.map((id) => ({ id, tokens: 128, rack: '' })), 3);
  let acknowledge: Array<(error: Error | null, reply: unknown) => void> = [];
  const peer: PeerLink = { send: (_args, callback) => { acknowledge.push(callback); } };
  const view: ClusterView = { selfId: ids[0] as string, clusterMode: true, ring: () => ring,
    isDown: () => false, peer: () => peer };
  const coordinator = new Coordinator(store, systemClock, systemRandom, 1, view, {
    requestTimeoutMs: 5000, tombstoneGraceMs: 60_000, inflightMax: 10_000,
    hintedHandoff: false, sloppyQuorum: false, readRepairPercent: 0, speculativeRetryMs: 20,
  });
  const writer = new ReplyWriter();
  let replied = 0;
  const client = {
    db: 0, writer, consistency: { read: 'quorum', write: 'quorum' },
    server: { kv: coordinator, clock: systemClock },
    hold: () => null, durable: () => undefined,
    defer: () => null, deferredWriter: () => writer, fill: () => { replied++; },
  } as unknown as Client;
  const keys = new Keys();
  const args = [Buffer.from('SET'), keys.take(), VALUE];
  const results: Measured[] = [];
  for (let round = 0; round <= rounds; round++) {
    const measured = await timeTurns(OPERATIONS_PER_ROUND, () => {
      for (let index = 0; index < perTurn; index++) {
        args[1] = keys.take();
        setCommand(client, args, writer);
      }
    }, () => {
      const callbacks = acknowledge;
      acknowledge = [];
      for (const callback of callbacks) callback(null, 1);
      writer.take();
    });
    // Round 0 warms the JIT and the record cache up.
    if (round > 0) results.push(measured);
  }
  if (replied !== (rounds + 1) * OPERATIONS_PER_ROUND) {
    throw new Error(`${replied} SETs replied, not ${(rounds + 1) * OPERATIONS_PER_ROUND}`);
  }
  coordinator.stop();
  await engine.close();
  return results;
}

/** One PEER.PUT request as a coordinator sends it. */
function peerPut(key: Buffer, version: number): Buffer {
  const record = encodeRecord({ version: { physicalMs: 1_700_000_000_000 + version, logical: 0,
    nodeTag: 7 }, tombstone: false, type: ValueType.String, expireAtMs: 0, value: VALUE,
  fullKey: null });
  return Buffer.concat([Buffer.from(`*4\r\n$8\r\nPEER.PUT\r\n$1\r\n0\r\n$${key.length}\r\n`),
    key, Buffer.from(`\r\n$${record.length}\r\n`), record, Buffer.from('\r\n')]);
}

async function replicaPuts(dir: string): Promise<Measured[]> {
  const { engine, store } = await openStore(dir);
  const handlers = peerCommands({ store, gossip: (message) => message,
    onCorruptRecord: () => undefined, observe: () => undefined });
  const handler = handlers.get('PEER.PUT');
  if (handler === undefined) throw new Error('no PEER.PUT handler');
  let replyBytes = 0;
  const queue = new ReplyQueue((chunks) => {
    for (const chunk of chunks) replyBytes += chunk.length;
  }, () => undefined);
  const session = {
    peerId: 'coordinator', writer: queue.writer, hold: () => queue.hold(),
    durable: (token: unknown) => queue.release(token as never),
  } as unknown as PeerSession;
  const decoder = new RequestDecoder({ bulkBytesMax: 512 * 1024 * 1024 });
  // The input chunks of a round, built before it is timed.
  const keys = new Keys();
  let version = 0;
  const chunksOfRound = (): Buffer[] => {
    const chunks: Buffer[] = [];
    for (let done = 0; done < OPERATIONS_PER_ROUND; done += perTurn) {
      const requests: Buffer[] = [];
      for (let index = 0; index < perTurn; index++) requests.push(peerPut(keys.take(), version++));
      chunks.push(Buffer.concat(requests));
    }
    return chunks;
  };
  const results: Measured[] = [];
  for (let round = 0; round <= rounds; round++) {
    const chunks = chunksOfRound();
    let next = 0;
    const measured = await timeTurns(OPERATIONS_PER_ROUND, () => {
      decoder.push(chunks[next++] as Buffer);
      for (let args = decoder.next(); args !== null; args = decoder.next()) {
        handler(session, args, queue.writer);
      }
      queue.endOfInput();
    }, () => undefined);
    if (round > 0) results.push(measured);
  }
  if (replyBytes !== ':1\r\n'.length * (rounds + 1) * OPERATIONS_PER_ROUND) {
    throw new Error(`${replyBytes} bytes of replies`);
  }
  await engine.close();
  return results;
}

const dir = mkdtempSync(join(tmpdir(), 'ringkv-cluster-path-'));
try {
  const coordinated = await coordinatedSets(join(dir, 'coordinator'));
  const replica = await replicaPuts(join(dir, 'replica'));
  console.log(`# cluster path (${rounds} rounds of ${OPERATIONS_PER_ROUND} operations, ` +
    `${perTurn} per turn, ${KEYS} keys in one slot)\n`);
  console.log(`${machine()}\n`);
  console.log('| operation | median us/op (wall) | min | max | median process CPU us/op |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, results] of [['coordinated SET', coordinated],
    ['replica PEER.PUT', replica]] as const) {
    const walls = results.map((result) => result.wallUs);
    console.log(`| ${name} | ${median(walls).toFixed(2)} | ${Math.min(...walls).toFixed(2)} | ` +
      `${Math.max(...walls).toFixed(2)} | ` +
      `${median(results.map((result) => result.cpuUs)).toFixed(2)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
