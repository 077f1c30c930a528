/**
 * Free TCP ports for test processes. Each test file runs in its own process, in parallel
 * with others: ask the kernel for an unused port, then also keep port+10000 (the peer port)
 * free, and never hand out the same port twice within a process.
 */
import { createServer } from 'node:net';

const handedOut = new Set<number>();

async function tryPort(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function kernelPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A port that is free now, and whose peer port (port + 10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await kernelPort();
    if (port + 10000 > 65535 || handedOut.has(port)) continue;
    if (!(await tryPort(port + 10000))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free port pair found');
}
