/** Address checks shared by protected mode (client sockets) and seed matching (cluster). */

/** A loopback address or name: 127.0.0.0/8 (also IPv4-mapped), ::1, localhost. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address === 'localhost' || address.startsWith('127.') ||
    address.startsWith('::ffff:127.');
}
