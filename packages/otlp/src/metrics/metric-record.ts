// One OTLP metric data point as ingest stores it: the metric's identity and kind, the point's labels, times and
// value — a number for gauges and sums, count/sum/min/max (and explicit buckets) for histograms and summaries.
import type { Attributes } from "../span-record.ts";

export type MetricKind = "gauge" | "sum" | "histogram" | "exponential_histogram" | "summary";
export type Temporality = "unspecified" | "delta" | "cumulative";

/** One side of an exponential histogram: counts[i] is the bucket (base^(offset+i), base^(offset+i+1)]. */
export type ExponentialBuckets = { offset: number; counts: number[] };

/** Exponential histogram buckets, base = 2^(2^-scale); zeroCount counts values in the zero bucket. */
export type ExponentialBucketsRecord = { scale: number; zeroCount: number; positive: ExponentialBuckets; negative: ExponentialBuckets };

export type MetricPointRecord = {
  serviceName: string;
  serviceNamespace: string | null;
  serviceVersion: string | null;
  resourceAttributes: Attributes;
  scopeName: string;
  name: string;
  description: string;
  unit: string;
  kind: MetricKind;
  /** Sums and histograms; "unspecified" for gauges and summaries. */
  temporality: Temporality;
  /** Sums only; false otherwise. */
  monotonic: boolean;
  attributes: Attributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Gauge and sum points (int64 beyond 2^53 is rounded); null for the histogram kinds and summaries. */
  value: number | null;
  count: number | null;
  sum: number | null;
  min: number | null;
  max: number | null;
  /** Explicit-bucket histograms: upper bounds, and one more count than bounds (the last is +Inf). Empty otherwise. */
  bounds: number[];
  bucketCounts: number[];
  /** Exponential histograms only; null for the other kinds. */
  exponential: ExponentialBucketsRecord | null;
};

export type DecodedMetrics = { points: MetricPointRecord[]; rejectedDataPoints: number; errors: string[] };
