import { describe, expect, it } from "vitest";
import {
  BUCKET_COUNT,
  RELATIVE_ERROR,
  bucketOf,
  emptyHistogram,
  fromExplicitBuckets,
  fromExponentialBuckets,
  lowerBound,
  mergeInto,
  quantile,
  record,
  upperBound,
} from "./latency-histogram.ts";

/** A seeded generator so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

describe("latency histogram", () => {
  it("puts every bound in the bucket below it and covers 7.8 µs to 9.3 h", () => {
    for (let i = 0; i < BUCKET_COUNT - 1; i++) {
      expect(bucketOf(upperBound(i))).toBe(i);
      expect(bucketOf(upperBound(i) * 1.000001)).toBe(i + 1);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(Number.NaN)).toBe(0);
    expect(bucketOf(1e12)).toBe(BUCKET_COUNT - 1);
    expect(upperBound(0)).toBeCloseTo(2 ** -6.75, 12);
    expect(lowerBound(BUCKET_COUNT - 1)).toBe(2 ** 24.75);
    expect(RELATIVE_ERROR).toBeLessThan(0.0865);
  });

  // The error bound the rollups promise: p50/p95/p99 from merged rows within RELATIVE_ERROR of the exact quantile.
  it.each([
    ["log-normal around 20 ms", (r: () => number) => Math.exp(Math.log(20) + 0.8 * gaussian(r))],
    ["bimodal fast/slow", (r: () => number) => (r() < 0.9 ? 0.3 + r() * 2 : 800 + r() * 4000)],
    ["uniform 0.05–30000 ms", (r: () => number) => 0.05 + r() * 30000],
  ])("quantiles of merged rows are within the stated error (%s)", (_name, draw) => {
    const random = mulberry32(42);
    const values: number[] = [];
    const rows = Array.from({ length: 60 }, () => emptyHistogram());
    for (let n = 0; n < 50_000; n++) {
      const v = draw(random);
      values.push(v);
      record(rows[n % rows.length] as number[], v);
    }
    const merged = emptyHistogram();
    for (const row of rows) mergeInto(merged, row);
    values.sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.95, 0.99, 0.999]) {
      const exact = exactQuantile(values, q);
      const estimate = quantile(merged, q) as number;
      expect(Math.abs(estimate - exact) / exact, `q=${q} exact=${exact} estimate=${estimate}`).toBeLessThanOrEqual(RELATIVE_ERROR + 1e-9);
    }
  });

  it("returns null for an empty histogram", () => {
    expect(quantile(emptyHistogram(), 0.99)).toBeNull();
  });

  it("spreads explicit buckets keeping the total and each source bucket's range", () => {
    const bounds = [0.5, 1, 5, 10, 25, 50, 100];
    const counts = [3, 10, 100, 7, 0, 1, 0, 2];
    const histogram = fromExplicitBuckets(bounds, counts);
    expect(histogram.reduce((a, b) => a + b, 0)).toBe(123);
    for (let i = 0; i < BUCKET_COUNT; i++) {
      if (!histogram[i]) continue;
      expect(lowerBound(i)).toBeLessThan(100 + 1e-9);
    }
    // The +Inf bucket sits at the last finite bound, so p100 is 100 ms (within the estimate's error).
    expect(quantile(histogram, 1)).toBeGreaterThan(100 * (1 - RELATIVE_ERROR));
    // 113 of 123 are ≤ 5 ms, so the median is between 1 and 5 ms.
    const p50 = quantile(histogram, 0.5) as number;
    expect(p50).toBeGreaterThan(1 * (1 - RELATIVE_ERROR));
    expect(p50).toBeLessThan(5 * (1 + RELATIVE_ERROR));
  });

  it("maps exponential histograms at scale 2 exactly and coarser scales by spreading", () => {
    // scale 2, offset 0: index k covers (2^(k/4), 2^((k+1)/4)] — exactly log bucket 28 + k.
    const exact = fromExponentialBuckets(2, { offset: 0, counts: [5, 0, 7] }, 2);
    expect(exact[0]).toBe(2);
    expect(exact[28]).toBe(5);
    expect(exact[30]).toBe(7);
    const coarse = fromExponentialBuckets(0, { offset: 3, counts: [8] }, 0); // (8, 16] ms
    expect(coarse.reduce((a, b) => a + b, 0)).toBe(8);
    expect(coarse.slice(40, 44)).toEqual([2, 2, 2, 2]);
    const seconds = fromExponentialBuckets(2, { offset: 0, counts: [1] }, 0, 1000); // (1, 1.19] s
    expect(quantile(seconds, 0.5)).toBeGreaterThan(1000);
  });
});

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
