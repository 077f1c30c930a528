import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { connectReading, readSocket } from '../../src/util/socket-reads.js';
import { waitFor } from '../helpers/wait.js';

/** A loopback server whose accepted sockets read through readSocket into `received`. */
async function listen(received: Buffer[], onSocket: (socket: Socket) => void = () => undefined):
    Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    readSocket(socket, (chunk) => received.push(chunk));
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return { server, port: address.port };
}

function total(chunks: Buffer[]): number {
  return chunks.reduce((sum, chunk) => sum + chunk.length, 0);
}

test('chunks stay intact across later reads, small and big, on both sides', async (t) => {
  const received: Buffer[] = [];
  let accepted: Socket | undefined;
  const { server, port } = await listen(received, (socket) => {
    accepted = socket;
    // Accepted sockets must not fall back to 'data' events on this Node.
    assert.equal(socket.listenerCount('data'), 0);
  });
  const echoed: Buffer[] = [];
  const client = connectReading({ host: '127.0.0.1', port }, (chunk) => echoed.push(chunk));
  t.after(() => {
    client.destroy();
    accepted?.destroy();
    server.close();
  });
  await once(client, 'connect');
  // Many small writes (more than a slab's worth in all) and some bigger than a slab's share.
  const sent: Buffer[] = [];
  for (let index = 0; index < 3000; index++) {
    const size = index % 500 === 0 ? 40_000 + index : 1 + (index * 37) % 200;
    const payload = Buffer.alloc(size, index % 251);
    sent.push(payload);
    client.write(payload);
    if (index % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const expected = Buffer.concat(sent);
  await waitFor('the server to read every byte',
    () => (total(received) === expected.length ? true : undefined));
  assert.ok(received.length > 1);
  assert.deepEqual(Buffer.concat(received), expected);
  // The other direction, read by a client socket.
  assert.ok(accepted !== undefined);
  accepted.write(expected);
  await waitFor('the client to read every byte',
    () => (total(echoed) === expected.length ? true : undefined));
  assert.deepEqual(Buffer.concat(echoed), expected);
  client.end();
  await once(accepted, 'close');
});

test('pause stops reads, resume restarts them; the peer closing ends the socket', async (t) => {
  const received: Buffer[] = [];
  let accepted: Socket | undefined;
  const { server, port } = await listen(received, (socket) => {
    accepted = socket;
    socket.pause();
  });
  const client = connectReading({ host: '127.0.0.1', port }, () => undefined);
  t.after(() => {
    client.destroy();
    accepted?.destroy();
    server.close();
  });
  await once(client, 'connect');
  client.write('held back');
  await waitFor('the connection', () => accepted);
  // A negative check needs a window: reads would have arrived within it had pause not held.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(received.length, 0);
  assert.ok(accepted !== undefined);
  const closed = once(accepted, 'close');
  accepted.resume();
  await waitFor('the held-back read', () => (received.length > 0 ? true : undefined));
  assert.equal(Buffer.concat(received).toString(), 'held back');
  client.end();
  await closed;
});
