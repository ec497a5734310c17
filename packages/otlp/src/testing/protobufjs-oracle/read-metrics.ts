// Test oracle (protobufjs): reads an OTLP/protobuf ExportMetricsServiceRequest into format-independent metric inputs.
import { AppError } from "@trellis/runtime";
import { cleanString } from "../../common/clean-string.ts";
import { longToSigned, longToUnsigned, toAttributes } from "./protobuf-values.ts";
import { decodeExportMetricsServiceRequest, type WireLong } from "./schema.ts";
import type {
  WireExponentialBuckets,
  WireExponentialHistogramDataPoint,
  WireExportMetricsServiceRequest,
  WireHistogramDataPoint,
  WireMetric,
  WireNumberDataPoint,
} from "./wire-metrics-logs.ts";
import { toTemporality, type MetricInput, type PointInput, type ResourceMetricsInput } from "../../metrics/to-metric-points.ts";

export function readProtobufMetrics(body: Uint8Array): ResourceMetricsInput[] {
  let request: WireExportMetricsServiceRequest;
  try {
    request = decodeExportMetricsServiceRequest(body);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const hint = body.find((byte) => byte > 0x20) === 0x7b ? " (the body looks like JSON; send it with Content-Type: application/json)" : "";
    throw new AppError("BAD_REQUEST", `protobuf body is not an ExportMetricsServiceRequest: ${reason}${hint}`, { cause: error });
  }
  return request.resourceMetrics.map((resourceMetrics, r) => ({
    resourceAttributes: toAttributes(resourceMetrics.resource?.attributes ?? []),
    scopes: resourceMetrics.scopeMetrics.map((scopeMetrics, s) => ({
      scopeName: cleanString(scopeMetrics.scope?.name ?? ""),
      metrics: scopeMetrics.metrics.map((metric, m) => toMetricInput(metric, `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`)),
    })),
  }));
}

function toMetricInput(metric: WireMetric, path: string): MetricInput {
  const base = { path, name: cleanString(metric.name), description: cleanString(metric.description), unit: cleanString(metric.unit) };
  switch (metric.data) {
    case "gauge":
      return { ...base, kind: "gauge", temporality: "unspecified", monotonic: false, points: (metric.gauge?.dataPoints ?? []).map(toNumberPoint) };
    case "sum":
      return {
        ...base,
        kind: "sum",
        temporality: toTemporality(metric.sum?.aggregationTemporality ?? 0),
        monotonic: metric.sum?.isMonotonic ?? false,
        points: (metric.sum?.dataPoints ?? []).map(toNumberPoint),
      };
    case "histogram":
      return { ...base, kind: "histogram", temporality: toTemporality(metric.histogram?.aggregationTemporality ?? 0), monotonic: false, points: (metric.histogram?.dataPoints ?? []).map(toHistogramPoint) };
    case "exponentialHistogram":
      return {
        ...base,
        kind: "exponential_histogram",
        temporality: toTemporality(metric.exponentialHistogram?.aggregationTemporality ?? 0),
        monotonic: false,
        points: (metric.exponentialHistogram?.dataPoints ?? []).map(toExponentialPoint),
      };
    case "summary":
      return {
        ...base,
        kind: "summary",
        temporality: "unspecified",
        monotonic: false,
        points: (metric.summary?.dataPoints ?? []).map((point) => ({ ...timesOf(point), value: null, count: toCount(point.count), sum: point.sum, min: null, max: null, bounds: [], bucketCounts: [], exponential: null })),
      };
    default:
      return { ...base, kind: null, temporality: "unspecified", monotonic: false, points: [] };
  }
}

function timesOf(point: { attributes: WireNumberDataPoint["attributes"]; startTimeUnixNano: WireLong; timeUnixNano: WireLong }) {
  return { attributes: toAttributes(point.attributes), startTimeUnixNano: longToUnsigned(point.startTimeUnixNano), timeUnixNano: longToUnsigned(point.timeUnixNano) };
}

function toCount(value: WireLong): number {
  return Number(longToUnsigned(value));
}

function toNumberPoint(point: WireNumberDataPoint): PointInput {
  const value = point.value === "asInt" ? Number(longToSigned(point.asInt ?? 0)) : point.value === "asDouble" ? (point.asDouble ?? 0) : null;
  return { ...timesOf(point), value, count: null, sum: null, min: null, max: null, bounds: [], bucketCounts: [], exponential: null };
}

function toHistogramPoint(point: WireHistogramDataPoint): PointInput {
  return {
    ...timesOf(point),
    value: null,
    count: toCount(point.count),
    // proto3 optional fields: present only when their synthetic oneof names them.
    sum: point._sum === "sum" ? (point.sum ?? null) : null,
    min: point._min === "min" ? (point.min ?? null) : null,
    max: point._max === "max" ? (point.max ?? null) : null,
    bounds: [...(point.explicitBounds ?? [])],
    bucketCounts: (point.bucketCounts ?? []).map(toCount),
    exponential: null,
  };
}

function toExponentialPoint(point: WireExponentialHistogramDataPoint): PointInput {
  return {
    ...toHistogramPoint(point),
    bounds: [],
    bucketCounts: [],
    exponential: { scale: point.scale, zeroCount: toCount(point.zeroCount), positive: toBuckets(point.positive), negative: toBuckets(point.negative) },
  };
}

function toBuckets(buckets: WireExponentialBuckets | null | undefined): { offset: number; counts: number[] } {
  return { offset: buckets?.offset ?? 0, counts: (buckets?.bucketCounts ?? []).map(toCount) };
}
