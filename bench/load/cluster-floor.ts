/**
 * The Node floor of a replicated cluster: three processes that exchange the messages a
 * 3-node RingKV cluster (N = 3) exchanges at QUORUM, and nothing else. A SET sends a canned
 * PEER.PUT-sized request to both other nodes and is answered +OK at the first
 * acknowledgement (W = 2, the node itself being the other); a GET asks one other node for a
 * canned record and answers with the value (R = 2). Requests are found as floor-server.ts
 * finds them (`*` bytes, first letter of the command); peer requests of one event-loop turn
 * leave in one socket write per peer, as RingKV's do, and so do a peer's replies. No
 * parsing, no storage, no versions, no quorum bookkeeping beyond a count.
 *
 * Each node presents itself as the master of a third of the hash slots (CLUSTER NODES,
 * CONFIG GET), enough for `redis-benchmark --cluster`. cluster-compare runs it beside Redis
 * Cluster and RingKV (`--floor`): its throughput is the ceiling any Node.js cluster that
 * replicates each write to three nodes reaches on the machine that day.
 *
 *   node dist/bench/load/cluster-floor.js --port 7401 --ports 7402,7403 \
 *     --peer-ports 17401,17402,17403 [--value-bytes 100]
 *
 * starts one child process per node (client ports --port, then --ports; peer ports in the
 * same order) and stops them on SIGTERM. A node's client port opens once every peer port
 * listens, so the first node answering PING means its peers are up.
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const STAR = 0x2a;
const LF = 0x0a;
const SLOTS = 16384;
/** A PEER.PUT of a 100-byte value: key, database and a record (value plus ~50 bytes). */
const RECORD_EXTRA_BYTES = 50;
const PEER_KEY = 'key:{tag}:000000012345';

const { values } = parseArgs({
  options: {
    'port': { type: 'string' },
    'ports': { type: 'string' },
    'peer-ports': { type: 'string' },
    'index': { type: 'string' },
    'value-bytes': { type: 'string', default: '100' },
  },
});
const ports = [values.port ?? '', ...String(values.ports ?? '').split(',')].map(Number);
const peerPorts = String(values['peer-ports'] ?? '').split(',').map(Number);
const valueBytes = Number(values['value-bytes']);
const valid = (port: number): boolean => Number.isInteger(port) && port > 0 && port <= 65535;
if (ports.length !== 3 || peerPorts.length !== 3 || !ports.every(valid) ||
    !peerPorts.every(valid)) {
  throw new Error('--port, --ports (two) and --peer-ports (three) name the nodes\' ports');
}
if (!Number.isInteger(valueBytes) || valueBytes < 0) throw new Error('bad --value-bytes');

if (values.index === undefined) {
  launch();
} else {
  serve(Number(values.index));
}

/** The parent: one child per node, told to open its client port once all peers listen. */
function launch(): void {
  const script = new URL(import.meta.url).pathname;
  const children = ports.map((_, index) => fork(script, [...process.argv.slice(2),
    '--index', String(index)]));
  let ready = 0;
  for (const child of children) {
    child.on('message', () => {
      ready++;
      if (ready === children.length) for (const each of children) each.send('open');
    });
  }
  const stop = (): void => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (const child of children) child.on('exit', stop);
}

/** What a peer request waits for: the client to answer at the first acknowledgement. */
interface Waiting {
  client: Socket;
  answered: boolean;
  reply: Buffer;
}

function serve(index: number): void {
  const value = 'x'.repeat(valueBytes);
  const record = 'r'.repeat(valueBytes + RECORD_EXTRA_BYTES);
  const PUT = resp(['PEER.PUT', '0', PEER_KEY, record]);
  const GET = resp(['PEER.GET', '0', PEER_KEY]);
  const PUT_ACK = Buffer.from(':1\r\n');
  const RECORD = Buffer.from(`$${record.length}\r\n${record}\r\n`);
  const OK = Buffer.from('+OK\r\n');
  const PONG = Buffer.from('+PONG\r\n');
  const VALUE = Buffer.from(`$${value.length}\r\n${value}\r\n`);
  const others = ports.map((_, other) => other).filter((other) => other !== index);

  /** An outbound link: requests of a turn go in one write; replies come back in order. */
  class PeerLink {
    private readonly socket: Socket;
    private output: Buffer[] = [];
    private readonly waiting: Array<{ entry: Waiting; replyBytes: number }> = [];
    private unread = 0;

    constructor(port: number) {
      this.socket = connect({ host: '127.0.0.1', port });
      this.socket.setNoDelay(true);
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk.length));
      this.socket.on('error', () => process.exit(1));
    }

    send(request: Buffer, entry: Waiting, replyBytes: number): void {
      if (this.output.length === 0) atTurnEnd(() => this.flush());
      this.output.push(request);
      this.waiting.push({ entry, replyBytes });
    }

    private flush(): void {
      const output = this.output;
      this.output = [];
      this.socket.write(output.length === 1 ? output[0] as Buffer : Buffer.concat(output));
    }

    /** Replies have fixed sizes: count them off the bytes received. */
    private onData(bytes: number): void {
      this.unread += bytes;
      for (;;) {
        const next = this.waiting[0];
        if (next === undefined || this.unread < next.replyBytes) return;
        this.unread -= next.replyBytes;
        this.waiting.shift();
        const entry = next.entry;
        if (entry.answered) continue;
        entry.answered = true;
        entry.client.write(entry.reply);
      }
    }
  }

  const links = new Map<number, PeerLink>();
  const link = (other: number): PeerLink => {
    let existing = links.get(other);
    if (existing === undefined) {
      existing = new PeerLink(peerPorts[other] as number);
      links.set(other, existing);
    }
    return existing;
  };

  // Peer port: one canned reply per request, all of a turn's in one write.
  createServer((socket) => {
    socket.setNoDelay(true);
    let pending: Buffer[] = [];
    let lastLetter = 0x50;
    socket.on('data', (chunk: Buffer) => {
      if (pending.length === 0) {
        atTurnEnd(() => {
          const replies = pending;
          pending = [];
          socket.write(replies.length === 1 ? replies[0] as Buffer : Buffer.concat(replies));
        });
      }
      // `*N\r\n$8\r\nPEER.PUT`: the letter after "PEER." tells PUT from GET.
      for (let at = chunk.indexOf(STAR); at !== -1; at = chunk.indexOf(STAR, at + 1)) {
        const first = chunk.indexOf(LF, at);
        const second = first === -1 ? -1 : chunk.indexOf(LF, first + 1);
        if (second !== -1 && second + 6 < chunk.length) lastLetter = chunk[second + 6] as number;
        pending.push(lastLetter === 0x47 ? RECORD : PUT_ACK);
      }
    });
    socket.on('error', () => socket.destroy());
  }).listen(peerPorts[index], '127.0.0.1', () => process.send?.('listening'));

  // Client port, once every node's peer port listens.
  const clients = createServer((client) => {
    client.setNoDelay(true);
    let lastLetter = 0x47;
    client.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf(STAR); at !== -1; at = chunk.indexOf(STAR, at + 1)) {
        const first = chunk.indexOf(LF, at);
        const second = first === -1 ? -1 : chunk.indexOf(LF, first + 1);
        if (second !== -1 && second + 1 < chunk.length) lastLetter = chunk[second + 1] as number;
        const upper = lastLetter & 0xdf;
        if (upper === 0x53) {
          // SET: both other replicas; the first acknowledgement answers.
          const entry: Waiting = { client, answered: false, reply: OK };
          for (const other of others) link(other).send(PUT, entry, PUT_ACK.length);
        } else if (upper === 0x47) {
          // GET: one other replica's record makes two of three.
          const entry: Waiting = { client, answered: false, reply: VALUE };
          link(others[0] as number).send(GET, entry, RECORD.length);
        } else if (upper === 0x43) {
          client.write(administrative(chunk.subarray(at), index));
        } else {
          client.write(upper === 0x50 ? PONG : OK);
        }
      }
    });
    client.on('error', () => client.destroy());
  });
  process.on('message', () => clients.listen(ports[index], '127.0.0.1'));
  process.on('SIGTERM', () => process.exit(0));
  // The parent is gone (killed): so are we.
  process.on('disconnect', () => process.exit(0));
}

/** CLUSTER NODES and CONFIG GET, what redis-benchmark --cluster asks before it starts. */
function administrative(request: Buffer, self: number): Buffer {
  const words = request.toString('latin1').split('\r\n').filter((_, at) => at % 2 === 0)
    .slice(1).map((word) => word.toUpperCase());
  if (words[0] === 'CLUSTER' && words[1] === 'NODES') {
    const lines = ports.map((port, node) => {
      const first = Math.floor((SLOTS * node) / ports.length);
      const last = Math.floor((SLOTS * (node + 1)) / ports.length) - 1;
      const flags = node === self ? 'myself,master' : 'master';
      return `${String(node + 1).padStart(40, '0')} 127.0.0.1:${port}@${peerPorts[node] ?? 0} ` +
        `${flags} - 0 0 ${node + 1} connected ${first}-${last}\n`;
    });
    const text = lines.join('');
    return Buffer.from(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
  }
  if (words[0] === 'CONFIG' && words[1] === 'GET' && words[2] !== undefined) {
    const name = words[2].toLowerCase();
    const setting = name === 'appendonly' ? 'no' : '';
    return resp([name, setting]);
  }
  return Buffer.from('+OK\r\n');
}

function resp(parts: readonly string[]): Buffer {
  return Buffer.from(`*${parts.length}\r\n` +
    parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join(''));
}

let turnTasks: Array<() => void> = [];

/** Runs `task` once this turn's input has been read (RingKV's turn end, simplified). */
function atTurnEnd(task: () => void): void {
  if (turnTasks.length === 0) {
    setImmediate(() => {
      const tasks = turnTasks;
      turnTasks = [];
      for (const run of tasks) run();
    });
  }
  turnTasks.push(task);
}
