// The latency histogram of the RED rollups: 128 log-scale buckets, four per power of two (the bucket layout of an
// OpenTelemetry exponential histogram at scale 2), from 2^-7 ms (7.8 µs) to 2^25 ms (9.3 h). Buckets of rows add up
// element by element, so the histogram of any window is the sum of its rows, and a quantile read from it is within
// RELATIVE_ERROR of the exact one for values inside the covered range (DDSketch's estimator: the answer for bucket
// (l, u] is 2lu/(l+u), at most (γ−1)/(γ+1) from any value in it, γ = 2^(1/4)).
//
// Explicit-bucket histograms (Istio's istio_request_duration_milliseconds) carry less: their counts are spread over
// the log buckets inside each source bucket, so a quantile from them is as exact as the source's buckets allow (the
// same bound as Prometheus's histogram_quantile).

export const BUCKET_COUNT = 128;
const PER_OCTAVE = 4;
const MIN_EXPONENT = -7;
const GAMMA = 2 ** (1 / PER_OCTAVE);

/** The largest relative error of a quantile for values in [lowestExact, highestExact] (8.64%). */
export const RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1);

/** Upper bound (ms) of bucket i; bucket 0 also holds everything below, the last bucket everything above. */
export function upperBound(i: number): number {
  return 2 ** ((i + 1) / PER_OCTAVE + MIN_EXPONENT);
}

export function lowerBound(i: number): number {
  return i === 0 ? 0 : upperBound(i - 1);
}

/** Values this close to exact: above bucket 0 and below the last bucket. */
export const lowestExact = upperBound(0);
export const highestExact = upperBound(BUCKET_COUNT - 2);

export function bucketOf(ms: number): number {
  if (!(ms > lowestExact)) return 0; // also NaN and negatives
  const i = Math.ceil(PER_OCTAVE * (Math.log2(ms) - MIN_EXPONENT)) - 1;
  // log2 rounding can land one off at an exact bound; the bound itself belongs to the bucket below it.
  if (i > 0 && ms <= upperBound(i - 1)) return i - 1;
  if (i < BUCKET_COUNT - 1 && ms > upperBound(i)) return Math.min(i + 1, BUCKET_COUNT - 1);
  return Math.min(i, BUCKET_COUNT - 1);
}

export function emptyHistogram(): number[] {
  return new Array<number>(BUCKET_COUNT).fill(0);
}

export function record(histogram: number[], ms: number, count = 1): void {
  const i = bucketOf(ms);
  histogram[i] = (histogram[i] ?? 0) + count;
}

/** Adds `from` into `into` (both BUCKET_COUNT long; a shorter or null `from` adds what it has). */
export function mergeInto(into: number[], from: readonly (number | null)[] | null | undefined): void {
  if (!from) return;
  const n = Math.min(from.length, BUCKET_COUNT);
  for (let i = 0; i < n; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
}

/**
 * The q-quantile (0..1) in ms, or null for an empty histogram. Rank q·(n−1) as DDSketch and most percentile
 * definitions use; the answer is the DDSketch estimate for the bucket holding that rank.
 */
export function quantile(histogram: readonly number[], q: number): number | null {
  return quantiles(histogram, [q])[0] ?? null;
}

/** Several quantiles (ascending) in one pass over the histogram: what the graph asks of every node and edge. */
export function quantiles(histogram: readonly number[], qs: readonly number[]): (number | null)[] {
  let total = 0;
  for (let i = 0; i < histogram.length; i++) total += histogram[i] ?? 0;
  if (total <= 0) return qs.map(() => null);
  const answers: (number | null)[] = [];
  let seen = 0;
  let i = 0;
  for (const q of qs) {
    const rank = Math.max(0, Math.min(1, q)) * (total - 1);
    while (i < histogram.length - 1 && seen + (histogram[i] ?? 0) <= rank) seen += histogram[i++] ?? 0;
    answers.push(ESTIMATES[i] ?? null);
  }
  return answers;
}

const ESTIMATES = Array.from({ length: BUCKET_COUNT }, (_, i) => estimate(i));

function estimate(i: number): number {
  if (i === 0) return upperBound(0);
  if (i >= BUCKET_COUNT - 1) return lowerBound(BUCKET_COUNT - 1);
  const lo = lowerBound(i);
  const hi = upperBound(i);
  return (2 * lo * hi) / (lo + hi);
}

/**
 * Spreads explicit-bucket counts (OTLP histogram: `bounds` are upper bounds, `counts` has one more entry for +Inf)
 * over the log buckets, in proportion to the log-width each source bucket shares with them. Whole counts come
 * out (largest remainder), so the total is kept exactly. The first source bucket is taken to start at bucket 0's
 * bound and the +Inf bucket is put at the last finite bound, as Prometheus's histogram_quantile does.
 */
export function fromExplicitBuckets(bounds: readonly number[], counts: readonly number[]): number[] {
  const histogram = emptyHistogram();
  for (let b = 0; b < counts.length; b++) {
    const count = counts[b] ?? 0;
    if (count <= 0) continue;
    const hi = bounds[b];
    const lo = b === 0 ? 0 : (bounds[b - 1] ?? 0);
    if (hi === undefined || !Number.isFinite(hi)) {
      record(histogram, lo, count);
      continue;
    }
    spread(histogram, lo, hi, count);
  }
  return histogram;
}

/**
 * OTLP exponential histogram buckets (base 2^(2^-scale); index k covers (base^k, base^(k+1)]) into log buckets;
 * exact for scale ≥ 2, spread for coarser scales. Values are in the histogram's unit; `toMs` converts.
 */
export function fromExponentialBuckets(
  scale: number,
  positive: { offset: number; counts: readonly number[] },
  zeroCount: number,
  toMs = 1,
): number[] {
  const histogram = emptyHistogram();
  if (zeroCount > 0) histogram[0] = (histogram[0] ?? 0) + zeroCount;
  const base = 2 ** (2 ** -scale);
  positive.counts.forEach((count, j) => {
    if (count <= 0) return;
    const k = positive.offset + j;
    spread(histogram, base ** k * toMs, base ** (k + 1) * toMs, count);
  });
  return histogram;
}

function spread(histogram: number[], lo: number, hi: number, count: number): void {
  const first = bucketOf(Math.max(lo, lowestExact) * (1 + 1e-12));
  const last = bucketOf(hi);
  if (first >= last) {
    histogram[last] = (histogram[last] ?? 0) + count;
    return;
  }
  const logLo = Math.log2(Math.max(lo, lowestExact));
  const logHi = Math.log2(hi);
  const width = logHi - logLo;
  const shares: { i: number; whole: number; rest: number }[] = [];
  let given = 0;
  for (let i = first; i <= last; i++) {
    const from = Math.max(logLo, Math.log2(Math.max(lowerBound(i), lowestExact)));
    const to = Math.min(logHi, Math.log2(upperBound(i)));
    const exact = (count * Math.max(0, to - from)) / width;
    const whole = Math.floor(exact);
    shares.push({ i, whole, rest: exact - whole });
    given += whole;
  }
  shares.sort((a, b) => b.rest - a.rest);
  for (let k = 0; given < count && k < shares.length; k++, given++) (shares[k] as { whole: number }).whole += 1;
  for (const share of shares) histogram[share.i] = (histogram[share.i] ?? 0) + share.whole;
}
