/**
 * The Node floor: a server that does the least a Node.js program can do and still answer
 * redis-benchmark correctly. Per input chunk it counts requests by their `*` bytes (keys and
 * values of redis-benchmark never contain one), looks at the first letter of each command
 * name, and writes one canned reply per request (+PONG, +OK, or a bulk of --value-bytes
 * bytes for GET) in one socket write. No RESP parsing, no dispatch, no storage.
 *
 * compare-redis runs it beside redis-server and RingKV (`--floor`): its throughput is the
 * ceiling any server built on Node's net sockets reaches on the machine that day, so the
 * report separates what Node costs from what RingKV adds.
 *
 *   node dist/bench/load/floor-server.js --port 7400 [--value-bytes 100]
 */
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const STAR = 0x2a;
const LF = 0x0a;

const { values } = parseArgs({
  options: { 'port': { type: 'string' }, 'value-bytes': { type: 'string', default: '100' } },
});
const port = Number(values.port);
const valueBytes = Number(values['value-bytes']);
if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error('--port is required');
if (!Number.isInteger(valueBytes) || valueBytes < 0) throw new Error('bad --value-bytes');

const PONG = Buffer.from('+PONG\r\n');
const VALUE = Buffer.from(`$${valueBytes}\r\n${'x'.repeat(valueBytes)}\r\n`);
const OK = Buffer.from('+OK\r\n');

/** By the command's first letter, either case: PING, GET, anything else (+OK). */
function replyFor(letter: number): Buffer {
  const upper = letter & 0xdf;
  if (upper === 0x50) return PONG;
  if (upper === 0x47) return VALUE;
  return OK;
}

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  // A request split across chunks: its name may arrive in the next chunk.
  let lastLetter = 0x47;
  socket.on('data', (chunk: Buffer) => {
    const replies: Buffer[] = [];
    for (let index = chunk.indexOf(STAR); index !== -1; index = chunk.indexOf(STAR, index + 1)) {
      // `*N\r\n$L\r\nNAME`: the name starts after the second line feed.
      const first = chunk.indexOf(LF, index);
      const second = first === -1 ? -1 : chunk.indexOf(LF, first + 1);
      if (second !== -1 && second + 1 < chunk.length) lastLetter = chunk[second + 1] as number;
      replies.push(replyFor(lastLetter));
    }
    if (replies.length === 1) socket.write(replies[0] as Buffer);
    else if (replies.length > 1) socket.write(Buffer.concat(replies));
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(serve);
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
