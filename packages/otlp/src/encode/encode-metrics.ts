// Cumulative metrics written straight to protobuf as one ExportMetricsServiceRequest: monotonic Sums of integer
// points (counters) and explicit-bucket Histograms, every point sharing one start time and one collection time.
// What a sender that aggregates in place (the sidecar's Istio metrics) needs, with the same content as
// otlp-transformer's ProtobufMetricsSerializer gives the SDK's cumulative data (the tests decode both).
import { writeKeyValues, type EncodableAttributes } from "./encode-common.ts";
import { FIXED64, LENGTH, VARINT, type ProtobufWriter } from "./protobuf-writer.ts";
import { RecordBatch, type BatchFraming } from "./record-batch.ts";

type MetricHead = { readonly name: string; readonly description: string; readonly unit: string };

export type SumPoint = { readonly attributes: EncodableAttributes; readonly value: number };

/** A counter: a cumulative, monotonic Sum whose points are integers (as_int). */
export type EncodableSum = MetricHead & { readonly kind: "sum"; readonly points: readonly SumPoint[] };

/** Buckets are upper-inclusive; `counts` has one more entry than the metric's bounds (the last one is +Inf). */
export type HistogramPoint = {
  readonly attributes: EncodableAttributes;
  readonly counts: readonly number[];
  readonly count: number;
  readonly sum: number;
  /** Written only when count > 0. */
  readonly min: number;
  readonly max: number;
};

/** A cumulative Histogram with explicit bucket bounds shared by all its points. */
export type EncodableHistogram = MetricHead & { readonly kind: "histogram"; readonly bounds: readonly number[]; readonly points: readonly HistogramPoint[] };

export type EncodableMetric = EncodableSum | EncodableHistogram;

// Metric (opentelemetry/proto/metrics/v1/metrics.proto).
const NAME = 1;
const DESCRIPTION = 2;
const UNIT = 3;
const SUM = 7;
const HISTOGRAM = 9;
// Sum and Histogram.
const DATA_POINTS = 1;
const AGGREGATION_TEMPORALITY = 2;
const IS_MONOTONIC = 3;
const AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
// NumberDataPoint and HistogramDataPoint share their time fields.
const START_TIME = 2;
const TIME = 3;
const NUMBER_ATTRIBUTES = 7;
const AS_INT = 6;
const HISTOGRAM_COUNT = 4;
const HISTOGRAM_SUM = 5;
const BUCKET_COUNTS = 6;
const EXPLICIT_BOUNDS = 7;
const HISTOGRAM_ATTRIBUTES = 9;
const HISTOGRAM_MIN = 11;
const HISTOGRAM_MAX = 12;

/**
 * One ExportMetricsServiceRequest: one ResourceMetrics with one ScopeMetrics holding `metrics` in order, every point
 * counted from `startTimeMs` and collected at `timeMs` (epoch ms). Returns a fresh buffer.
 */
export function encodeMetricsExport(framing: BatchFraming, metrics: readonly EncodableMetric[], startTimeMs: number, timeMs: number): Uint8Array {
  let points = 0;
  for (const metric of metrics) points += metric.points.length;
  // Metrics sit where a batch's spans or log records do (field 2 of ScopeMetrics, inside field 2 of ResourceMetrics,
  // inside field 1 of the request), so RecordBatch frames them. Its attribute sink is unused: points write their
  // attributes from objects.
  const batch = new RecordBatch(framing, NUMBER_ATTRIBUTES, 256 + points * 1024);
  const times = { startTimeMs, timeMs };
  for (const metric of metrics) {
    if (metric.kind === "sum") writeSum(batch.w, metric, times);
    else writeHistogram(batch.w, metric, times);
    batch.count += 1;
  }
  return batch.seal();
}

type Times = { startTimeMs: number; timeMs: number };

function beginMetric(w: ProtobufWriter, metric: MetricHead): number {
  const at = w.begin(2);
  if (metric.name !== "") w.string(NAME, metric.name);
  if (metric.description !== "") w.string(DESCRIPTION, metric.description);
  if (metric.unit !== "") w.string(UNIT, metric.unit);
  return at;
}

function writeTimes(w: ProtobufWriter, times: Times): void {
  w.tag(START_TIME, FIXED64);
  w.epochMillis(times.startTimeMs);
  w.tag(TIME, FIXED64);
  w.epochMillis(times.timeMs);
}

function writeSum(w: ProtobufWriter, metric: EncodableSum, times: Times): void {
  const at = beginMetric(w, metric);
  const sum = w.begin(SUM);
  for (const point of metric.points) {
    if (!Number.isSafeInteger(point.value)) throw new RangeError(`OTLP sum ${metric.name}: point value ${point.value} is not a safe integer; counters are written as as_int`);
    const p = w.begin(DATA_POINTS);
    writeTimes(w, times);
    w.tag(AS_INT, FIXED64);
    w.int64Fixed(point.value);
    writeKeyValues(w, NUMBER_ATTRIBUTES, point.attributes);
    w.end(p);
  }
  w.tag(AGGREGATION_TEMPORALITY, VARINT);
  w.uint32(AGGREGATION_TEMPORALITY_CUMULATIVE);
  w.tag(IS_MONOTONIC, VARINT);
  w.uint32(1);
  w.end(sum);
  w.end(at);
}

function writeHistogram(w: ProtobufWriter, metric: EncodableHistogram, times: Times): void {
  const { bounds } = metric;
  const at = beginMetric(w, metric);
  const histogram = w.begin(HISTOGRAM);
  for (const point of metric.points) {
    if (point.counts.length !== bounds.length + 1) {
      throw new RangeError(`OTLP histogram ${metric.name}: ${point.counts.length} bucket counts for ${bounds.length} bounds, expected ${bounds.length + 1} (the last is +Inf)`);
    }
    const p = w.begin(DATA_POINTS);
    writeTimes(w, times);
    w.tag(HISTOGRAM_COUNT, FIXED64);
    w.int64Fixed(point.count);
    w.tag(HISTOGRAM_SUM, FIXED64);
    w.double(point.sum);
    writePackedFixed64(w, BUCKET_COUNTS, point.counts);
    writePackedDoubles(w, EXPLICIT_BOUNDS, bounds);
    writeKeyValues(w, HISTOGRAM_ATTRIBUTES, point.attributes);
    // min and max are optional: an empty point has neither (its running min/max are ±Infinity).
    if (point.count > 0) {
      w.tag(HISTOGRAM_MIN, FIXED64);
      w.double(point.min);
      w.tag(HISTOGRAM_MAX, FIXED64);
      w.double(point.max);
    }
    w.end(p);
  }
  w.tag(AGGREGATION_TEMPORALITY, VARINT);
  w.uint32(AGGREGATION_TEMPORALITY_CUMULATIVE);
  w.end(histogram);
  w.end(at);
}

function writePackedFixed64(w: ProtobufWriter, field: number, values: readonly number[]): void {
  if (values.length === 0) return;
  w.tag(field, LENGTH);
  w.uint32(values.length * 8);
  for (const value of values) w.int64Fixed(value);
}

function writePackedDoubles(w: ProtobufWriter, field: number, values: readonly number[]): void {
  if (values.length === 0) return;
  w.tag(field, LENGTH);
  w.uint32(values.length * 8);
  for (const value of values) w.double(value);
}
