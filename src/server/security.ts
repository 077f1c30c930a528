/**
 * Authentication of the default user (requirepass, constant-time comparison) and Redis's
 * protected mode: with no password set, only loopback clients may connect.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { AuthService } from '../commands/context.js';

export class PasswordAuth implements AuthService {
  constructor(private readonly password: () => string) {}

  get required(): boolean {
    return this.password() !== '';
  }

  check(user: string, password: Buffer): boolean {
    if (user !== 'default') return false;
    const expected = this.password();
    if (expected === '') return true;
    // Compare digests so the comparison takes the same time whatever the lengths.
    const given = createHash('sha256').update(password).digest();
    const wanted = createHash('sha256').update(expected).digest();
    return timingSafeEqual(given, wanted);
  }
}

export const PROTECTED_MODE_DENIED = '-DENIED Redis is running in protected mode because ' +
  'protected mode is enabled and no password is set for the default user. In this mode ' +
  'connections are only accepted from the loopback interface. If you want to connect from ' +
  'external computers to Redis you may adopt one of the following solutions: 1) Just disable ' +
  "protected mode sending the command 'CONFIG SET protected-mode no' from the loopback " +
  'interface by connecting to Redis from the same host the server is running, however MAKE ' +
  'SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to ' +
  'make this change permanent. 2) Alternatively you can just disable the protected mode by ' +
  "editing the Redis configuration file, and setting the protected mode option to 'no', and " +
  "then restarting the server. 3) If you started the server manually just for testing, " +
  "restart it with the '--protected-mode no' option. 4) Set up an authentication password " +
  'for the default user. NOTE: You only need to do one of the above things in order for the ' +
  'server to start accepting connections from the outside.\r\n';

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
