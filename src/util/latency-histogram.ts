/**
 * A fixed-size log-linear latency histogram (HDR-style, ~6 % precision): 16 linear
 * sub-buckets per power of two of nanoseconds. Recording is one array increment, so every
 * command can record its duration (INFO latencystats). Pure.
 */
const SUB_BUCKETS = 16;
const SUB_BITS = 4;
/** Powers of two covered: 2^40 ns is about 18 minutes. */
const EXPONENTS = 41;

export class LatencyHistogram {
  private readonly counts = new Float64Array(EXPONENTS * SUB_BUCKETS);
  private total = 0;

  get count(): number {
    return this.total;
  }

  record(nanoseconds: number): void {
    const bucket = bucketOf(nanoseconds);
    this.counts[bucket] = (this.counts[bucket] as number) + 1;
    this.total++;
  }

  /** The value below which `percent` % of the recorded values fall (bucket upper edge). */
  percentile(percent: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index] as number;
      if (seen >= rank) return upperEdge(index);
    }
    return upperEdge(this.counts.length - 1);
  }
}

function bucketOf(nanoseconds: number): number {
  const value = Math.max(0, Math.floor(nanoseconds));
  if (value < SUB_BUCKETS) return value;
  // Every command records its duration: below 2^31 ns, leading zeros and a shift instead of
  // log2 and a power (Math.pow showed up at 2 % of a GET's CPU profile).
  if (value < 0x80000000) {
    const exponent = 31 - Math.clz32(value);
    const sub = (value >>> (exponent - SUB_BITS)) - SUB_BUCKETS;
    return (exponent - SUB_BITS + 1) * SUB_BUCKETS + sub;
  }
  const exponent = Math.min(Math.floor(Math.log2(value)), EXPONENTS + SUB_BITS - 2);
  const sub = Math.floor(value / 2 ** (exponent - SUB_BITS)) - SUB_BUCKETS;
  return (exponent - SUB_BITS + 1) * SUB_BUCKETS + Math.min(sub, SUB_BUCKETS - 1);
}

function upperEdge(index: number): number {
  if (index < SUB_BUCKETS) return index + 1;
  const exponent = Math.floor(index / SUB_BUCKETS) + SUB_BITS - 1;
  const sub = index % SUB_BUCKETS;
  return (SUB_BUCKETS + sub + 1) * 2 ** (exponent - SUB_BITS);
}
