/**
 * SCAN cursors. Clients need an integer cursor (redis-py parses it), but our position is
 * (slot, last stored key returned). A cursor is `slot + 16384 * token`, where the token
 * names the saved last key in a bounded table. A cursor whose token is gone (evicted, or
 * issued by another node) restarts its slot from the beginning: that can only return
 * duplicates, which SCAN allows, never skip a key that existed for the whole iteration.
 */
const SLOTS = 16384;
const TOKENS_MAX = 4096;
/** Tokens wrap below 2^36 so cursors stay exact integers (< 2^50). */
const TOKEN_LIMIT = 2 ** 36;

export interface ScanPosition {
  slot: number;
  after: Buffer | null;
}

export class ScanCursors {
  private readonly saved = new Map<number, Buffer>();
  private nextToken = 1;

  resolve(cursor: number): ScanPosition {
    const slot = cursor % SLOTS;
    const token = Math.floor(cursor / SLOTS);
    if (token === 0) return { slot, after: null };
    const after = this.saved.get(token);
    return { slot, after: after ?? null };
  }

  issue(slot: number, after: Buffer | null): number {
    if (after === null) return slot;
    const token = this.nextToken;
    this.nextToken = this.nextToken + 1 >= TOKEN_LIMIT ? 1 : this.nextToken + 1;
    this.saved.set(token, after);
    if (this.saved.size > TOKENS_MAX) {
      const oldest = this.saved.keys().next().value as number;
      this.saved.delete(oldest);
    }
    return slot + SLOTS * token;
  }
}
