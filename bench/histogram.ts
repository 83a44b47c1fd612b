// A log-linear latency histogram (HDR-style): values are recorded in whole microseconds; below 128 µs every
// microsecond has its own bucket, above it each power of two is split into 64 buckets, so any reported
// percentile is within 1.6 % of the true value. Exact count, sum, min and max are kept beside the buckets.
// Histograms merge by adding buckets, so the driver can keep one per scenario and one per time window.

const SUB_BUCKETS = 64;
const LINEAR_LIMIT = 2 * SUB_BUCKETS; // 128 µs
const BUCKETS = 2048; // covers up to 2^37 µs, far beyond any request timeout

function indexOf(us: number): number {
  if (us < LINEAR_LIMIT) return us;
  const msb = 31 - Math.clz32(us);
  const shift = msb - 6;
  return shift * SUB_BUCKETS + (us >>> shift);
}

/** The highest value (µs) a bucket holds. */
function upperBound(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = index - shift * SUB_BUCKETS;
  return (sub + 1) * 2 ** shift - 1;
}

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  readonly buckets = new Float64Array(BUCKETS);
  count = 0;
  sumUs = 0;
  minUs = Number.POSITIVE_INFINITY;
  maxUs = 0;

  /** Records one latency given in milliseconds (as performance.now() differences are). */
  recordMs(ms: number): void {
    let us = Math.ceil(ms * 1000);
    if (us < 1) us = 1;
    if (us > 2 ** 36) us = 2 ** 36;
    this.buckets[indexOf(us)]! += 1;
    this.count += 1;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.buckets[i]! += other.buckets[i]!;
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.minUs < this.minUs) this.minUs = other.minUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  /** The value (µs) at quantile q (0..1): the upper bound of the bucket holding it, capped at the exact max. */
  quantileUs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(upperBound(i), this.maxUs);
    }
    return this.maxUs;
  }

  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : Math.round(this.sumUs / this.count) / 1000,
      min: this.count === 0 ? 0 : ms(this.minUs),
      p50: ms(this.quantileUs(0.5)),
      p90: ms(this.quantileUs(0.9)),
      p99: ms(this.quantileUs(0.99)),
      p999: ms(this.quantileUs(0.999)),
      max: ms(this.maxUs),
    };
  }
}
