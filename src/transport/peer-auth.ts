/**
 * Mutual authentication of peer links with the shared cluster secret (challenge-response,
 * HMAC-SHA256), so a node of another cluster, or anything without the secret, is refused
 * before it can send a single PEER.* command. Pure functions; the transports call them.
 *
 * Handshake (both sides prove the secret without sending it; nonces prevent replay):
 *   client -> PEER.HELLO <cluster-name> <client-node-id> <client-nonce>
 *   server -> [<server-node-id>, <server-nonce>, HMAC(secret, "server", cluster, client-nonce,
 *              server-nonce, server-node-id)]
 *   client -> PEER.PROVE HMAC(secret, "client", cluster, server-nonce, client-nonce,
 *              client-node-id)
 *   server -> +OK   (the connection is authenticated; anything else closes it)
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 16;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

function proof(secret: string, parts: ReadonlyArray<string | Buffer>): Buffer {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    // Length-prefix every part so no two different sequences hash alike.
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    hmac.update(length);
    hmac.update(bytes);
  }
  return hmac.digest();
}

export function serverProof(secret: string, cluster: string, clientNonce: Buffer,
    serverNonce: Buffer, serverNodeId: string): Buffer {
  return proof(secret, ['server', cluster, clientNonce, serverNonce, serverNodeId]);
}

export function clientProof(secret: string, cluster: string, serverNonce: Buffer,
    clientNonce: Buffer, clientNodeId: string): Buffer {
  return proof(secret, ['client', cluster, serverNonce, clientNonce, clientNodeId]);
}

export function proofsEqual(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
