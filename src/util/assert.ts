/**
 * Assertions for programmer errors (STYLE.md section 6). They stay on in production:
 * a failed assertion means our own state is wrong, so the process must not go on serving.
 * Never assert on what a client or peer sent; validate and reply instead.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Exhaustiveness check for switch statements over unions. */
export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable ${what}: ${String(value)}`);
}
