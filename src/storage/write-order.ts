/**
 * How the LMDB writer thread applies a batch (one transaction): grouped by the first two
 * bytes of each key (a record's key starts with its hash slot, stored-key.ts), in log order
 * within small groups and in key order within large ones (below), and without the writes a
 * later write of the same key in the batch replaces.
 * The transaction shows readers only its end state, which is that of the log order.
 *
 * Why grouped: a batch of random keys, applied in log order, searches a different leaf page
 * on every put, and most of the writer's time was LMDB's page searches missing the CPU
 * caches. Grouped by slot, consecutive puts share pages. LMDB alone, 20k random puts into
 * 100k keys (16 KiB pages): 22.5-24.5 ms of puts in log order, 13.8-15.8 ms grouped, plus
 * 1.2-1.8 ms for this counting sort (a full key sort, comparing Buffers, took 15.7 ms).
 * Why large groups are sorted too: keys sharing a hash tag share a slot, so one group can
 * hold a whole batch (redis-benchmark --cluster puts each node's writes in one slot), and
 * within it log order is random again: 44k such puts into 100k keys cost 1.8-2.0 us each
 * in log order, 1.0-1.2 us sorted. A group of SORTED_GROUP_MIN rows or more is ordered by
 * the 4 bytes that follow its keys' common prefix, with a radix sort (about 0.08 us a row
 * with finding the prefix; a native sort of numbers took 0.17), which puts keys in LMDB's
 * order up to those 4 bytes; writes whose 4 bytes tie stay in log order.
 * Why replaced writes go: at SET -P 16 a half-second batch holds ~110k writes of 100k keys,
 * a third of them replaced within the batch; dropping those took its puts from 75.7 to
 * 58.9 ms. A write is compared with the next LOOKAHEAD writes of its group only, so the
 * work stays linear when many keys share a slot (hash tags); replaced writes beyond that
 * are applied, which is merely slower.
 *
 * No object per write: writes are rows of one Int32Array, reused from batch to batch.
 * Pure: no I/O.
 */

/** Row fields: source, table, kind, keyStart, valueStart, end, prefix, key hash. */
const ROW = 8;
const PREFIXES = 65536;
const INITIAL_ROWS = 1024;
/** Later writes of the same group a write is compared with. */
const LOOKAHEAD = 16;
/** Groups of at least this many rows are sorted by key (see above). */
const SORTED_GROUP_MIN = 64;

export type OrderedWriteVisitor = (source: number, table: number, kind: number,
  keyStart: number, valueStart: number, end: number) => void;

export class WriteOrder {
  private sources: readonly Buffer[] = [];
  private rows = new Int32Array(INITIAL_ROWS * ROW);
  private order = new Int32Array(INITIAL_ROWS);
  /** A group's sort windows and rows while it is sorted (sortGroup). */
  private windows = new Uint32Array(INITIAL_ROWS);
  private sortedWindows = new Uint32Array(INITIAL_ROWS);
  private sortedRows = new Int32Array(INITIAL_ROWS);
  private readonly byteCounts = new Int32Array(256);
  private count = 0;
  /** Per prefix, where its rows start in `order` (counting sort). */
  private readonly starts = new Int32Array(PREFIXES + 1);
  private skipped = 0;

  /** Writes added since `begin`. */
  get length(): number {
    return this.count;
  }

  /** Writes the last `forEach` left out because a later write of their key replaced them. */
  get replaced(): number {
    return this.skipped;
  }

  /** Starts a batch whose writes lie in `sources` (the buffers `add` names by index). */
  begin(sources: readonly Buffer[]): void {
    this.sources = sources;
    this.count = 0;
  }

  /** Ends a batch: lets go of its buffers. */
  clear(): void {
    this.sources = [];
    this.count = 0;
  }

  /**
   * Adds a write: the buffer it is in (an index into the sources), its table and kind, and
   * its key bytes[keyStart, valueStart) and value bytes[valueStart, end) of that buffer.
   */
  add(source: number, table: number, kind: number, keyStart: number, valueStart: number,
      end: number): void {
    if ((this.count + 1) * ROW > this.rows.length) {
      const grown = new Int32Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
      this.order = new Int32Array(this.order.length * 2);
    }
    const bytes = this.sources[source] as Buffer;
    const row = this.count * ROW;
    const rows = this.rows;
    rows[row] = source;
    rows[row + 1] = table;
    rows[row + 2] = kind;
    rows[row + 3] = keyStart;
    rows[row + 4] = valueStart;
    rows[row + 5] = end;
    rows[row + 6] = valueStart - keyStart >= 2
      ? ((bytes[keyStart] as number) << 8) | (bytes[keyStart + 1] as number) : 0;
    rows[row + 7] = keyHash(bytes, keyStart, valueStart);
    this.count++;
  }

  /**
   * Visits the writes added, by prefix and within a prefix in the order added (in key
   * order in a large group, see above), leaving out each write that a later one of the same
   * table and key (among the next LOOKAHEAD of its prefix) replaces.
   */
  forEach(visit: OrderedWriteVisitor): void {
    const { rows, order, starts, count } = this;
    starts.fill(0);
    for (let index = 0; index < count; index++) {
      const bucket = (rows[index * ROW + 6] as number) + 1;
      starts[bucket] = (starts[bucket] as number) + 1;
    }
    for (let prefix = 1; prefix <= PREFIXES; prefix++) {
      starts[prefix] = (starts[prefix] as number) + (starts[prefix - 1] as number);
    }
    for (let index = 0; index < count; index++) {
      const prefix = rows[index * ROW + 6] as number;
      order[starts[prefix] as number] = index;
      starts[prefix] = (starts[prefix] as number) + 1;
    }
    // Now starts[prefix] is where the prefix's rows end in `order`.
    for (let from = 0; from < count;) {
      const to = starts[rows[(order[from] as number) * ROW + 6] as number] as number;
      if (to - from >= SORTED_GROUP_MIN) this.sortGroup(from, to);
      from = to;
    }
    this.skipped = 0;
    for (let position = 0; position < count; position++) {
      const row = (order[position] as number) * ROW;
      const groupEnd = starts[rows[row + 6] as number] as number;
      if (this.replacedWithin(row, position + 1, Math.min(groupEnd, position + 1 + LOOKAHEAD))) {
        this.skipped++;
        continue;
      }
      visit(rows[row] as number, rows[row + 1] as number, rows[row + 2] as number,
        rows[row + 3] as number, rows[row + 4] as number, rows[row + 5] as number);
    }
  }

  /**
   * Sorts order[from, to) (one group, in log order) by the 4 key bytes after the common
   * prefix of its keys: a stable radix sort, a byte per pass, so ties keep log order.
   */
  private sortGroup(from: number, to: number): void {
    const { rows, order, sources } = this;
    const count = to - from;
    if (this.windows.length < count) {
      this.windows = new Uint32Array(this.order.length);
      this.sortedWindows = new Uint32Array(this.order.length);
      this.sortedRows = new Int32Array(this.order.length);
    }
    const firstRow = (order[from] as number) * ROW;
    const firstBytes = sources[rows[firstRow] as number] as Buffer;
    const firstStart = rows[firstRow + 3] as number;
    let common = (rows[firstRow + 4] as number) - firstStart;
    for (let position = from + 1; position < to && common > 0; position++) {
      const row = (order[position] as number) * ROW;
      const bytes = sources[rows[row] as number] as Buffer;
      const start = rows[row + 3] as number;
      const limit = Math.min(common, (rows[row + 4] as number) - start);
      let same = 0;
      while (same < limit && bytes[start + same] === firstBytes[firstStart + same]) same++;
      common = same;
    }
    let windows = this.windows;
    for (let place = 0; place < count; place++) {
      const row = (order[from + place] as number) * ROW;
      const bytes = sources[rows[row] as number] as Buffer;
      const start = (rows[row + 3] as number) + common;
      const end = rows[row + 4] as number;
      let window = 0;
      for (let index = start; index < start + 4; index++) {
        window = (window << 8) | (index < end ? bytes[index] as number : 0);
      }
      windows[place] = window >>> 0;
    }
    // Rows go back and forth between `order` (at `from`) and sortedRows (at 0).
    let inRows = order;
    let inBase = from;
    let outRows = this.sortedRows;
    let outBase = 0;
    let outWindows = this.sortedWindows;
    const counts = this.byteCounts;
    for (let shift = 0; shift < 32; shift += 8) {
      counts.fill(0);
      for (let place = 0; place < count; place++) {
        const byte = ((windows[place] as number) >>> shift) & 0xff;
        counts[byte] = (counts[byte] as number) + 1;
      }
      // A byte all rows share leaves the order as it is.
      if (counts[((windows[0] as number) >>> shift) & 0xff] === count) continue;
      let total = 0;
      for (let byte = 0; byte < 256; byte++) {
        const rowsWithByte = counts[byte] as number;
        counts[byte] = total;
        total += rowsWithByte;
      }
      for (let place = 0; place < count; place++) {
        const window = windows[place] as number;
        const byte = (window >>> shift) & 0xff;
        const at = counts[byte] as number;
        counts[byte] = at + 1;
        outWindows[at] = window;
        outRows[outBase + at] = inRows[inBase + place] as number;
      }
      const sortedWindows = outWindows;
      outWindows = windows;
      windows = sortedWindows;
      const sortedRows = outRows;
      outRows = inRows;
      inRows = sortedRows;
      const sortedBase = outBase;
      outBase = inBase;
      inBase = sortedBase;
    }
    if (inRows !== order) order.set(inRows.subarray(0, count), from);
  }

  /** Whether a write at order[from, to) has the same table and key as the write at `row`. */
  private replacedWithin(row: number, from: number, to: number): boolean {
    const { rows, order } = this;
    for (let position = from; position < to; position++) {
      const other = (order[position] as number) * ROW;
      if (rows[other + 7] === rows[row + 7] && rows[other + 1] === rows[row + 1] &&
          this.sameKey(row, other)) return true;
    }
    return false;
  }

  private sameKey(row: number, other: number): boolean {
    const rows = this.rows;
    const start = rows[row + 3] as number;
    const length = (rows[row + 4] as number) - start;
    const otherStart = rows[other + 3] as number;
    if ((rows[other + 4] as number) - otherStart !== length) return false;
    const bytes = this.sources[rows[row] as number] as Buffer;
    const otherBytes = this.sources[rows[other] as number] as Buffer;
    for (let index = 0; index < length; index++) {
      if (bytes[start + index] !== otherBytes[otherStart + index]) return false;
    }
    return true;
  }
}

/** FNV-1a of bytes[start, end): tells most different keys apart without comparing them. */
function keyHash(bytes: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let index = start; index < end; index++) {
    hash = Math.imul(hash ^ (bytes[index] as number), 0x01000193);
  }
  return hash | 0;
}
