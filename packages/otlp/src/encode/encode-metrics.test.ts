// The hand-written metrics encoder against the official serializer as the oracle: the same counters and histograms,
// as the SDK's cumulative MetricData through ProtobufMetricsSerializer and as plain series through
// encodeMetricsExport, must decode to the same message (every field, defaults included) and the same points.
import { ValueType } from "@opentelemetry/api";
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { decodeMetricsRequest } from "../metrics/decode-metrics-request.ts";
import { encodeResource, encodeScope } from "./encode-common.ts";
import { encodeMetricsExport, type EncodableMetric, type HistogramPoint } from "./encode-metrics.ts";
import { decodeToPlainObject } from "./testing-decode.ts";

const RESOURCE = { "service.name": "checkout", "service.namespace": "shop", "service.instance.id": "checkout-v1-0", "telemetry.sdk.language": "nodejs" };
const SCOPE = "@trellis/sidecar/istio";
const START_MS = 1767225600123;
const TIME_MS = 1767225610456;
const BOUNDS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

function histogramPoint(attributes: Record<string, string>, values: number[]): HistogramPoint {
  const counts = new Array<number>(BOUNDS.length + 1).fill(0);
  for (const value of values) {
    const i = BOUNDS.findIndex((bound) => value <= bound);
    const at = i === -1 ? BOUNDS.length : i;
    counts[at] = (counts[at] ?? 0) + 1;
  }
  return { attributes, counts, count: values.length, sum: values.reduce((a, b) => a + b, 0), min: Math.min(...values), max: Math.max(...values) };
}

function makeMetrics(seriesCount = 3): EncodableMetric[] {
  const labels = Array.from({ length: seriesCount }, (_, i) => ({
    reporter: i % 2 === 0 ? "source" : "destination",
    destination_service: `cart-${i}.shop.svc.cluster.local`,
    request_path_note: i === 1 ? `ünïcode ${"x".repeat(150)}` : "",
    response_code: String(200 + i),
  }));
  return [
    { kind: "sum", name: "istio_requests_total", description: "Requests, by Istio's standard labels", unit: "", points: labels.map((attributes, i) => ({ attributes, value: i * 7 })) },
    {
      kind: "histogram",
      name: "istio_request_duration_milliseconds",
      description: "Request duration",
      unit: "ms",
      bounds: BOUNDS,
      points: labels.map((attributes, i) => histogramPoint(attributes, [0.5, 3.25, 70, 4_000_000].slice(0, i % 5))),
    },
    { kind: "sum", name: "istio_tcp_sent_bytes_total", description: "Bytes sent downstream on TCP connections", unit: "By", points: [{ attributes: { reporter: "destination" }, value: 2 ** 40 + 3 }] },
    { kind: "sum", name: "trellis_telemetry_dropped_total", description: "", unit: "", points: [{ attributes: {}, value: 0 }] },
  ];
}

/** The same metrics as the SDK's readers collect them (the sidecar's MetricProducer made exactly these). */
function toSdkResourceMetrics(metrics: EncodableMetric[]): ResourceMetrics {
  const startTime: [number, number] = [Math.floor(START_MS / 1000), (START_MS % 1000) * 1e6];
  const endTime: [number, number] = [Math.floor(TIME_MS / 1000), (TIME_MS % 1000) * 1e6];
  const toMetricData = (metric: EncodableMetric): MetricData =>
    metric.kind === "sum"
      ? {
          descriptor: { name: metric.name, description: metric.description, unit: metric.unit, valueType: ValueType.INT },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: metric.points.map((p) => ({ startTime, endTime, attributes: p.attributes as Record<string, string>, value: p.value })),
        }
      : {
          descriptor: { name: metric.name, description: metric.description, unit: metric.unit, valueType: ValueType.DOUBLE },
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.HISTOGRAM,
          dataPoints: metric.points.map((p) => ({
            startTime,
            endTime,
            attributes: p.attributes as Record<string, string>,
            value: { buckets: { boundaries: [...metric.bounds], counts: [...p.counts] }, sum: p.sum, count: p.count, ...(p.count > 0 ? { min: p.min, max: p.max } : {}) },
          })),
        };
  return { resource: resourceFromAttributes(RESOURCE), scopeMetrics: [{ scope: { name: SCOPE }, metrics: metrics.map(toMetricData) }] };
}

function encodeOurs(metrics: EncodableMetric[]): Uint8Array {
  return encodeMetricsExport({ resource: encodeResource(RESOURCE), scope: encodeScope(SCOPE) }, metrics, START_MS, TIME_MS);
}

function encodeOfficial(metrics: EncodableMetric[]): Uint8Array {
  const bytes = ProtobufMetricsSerializer.serializeRequest(toSdkResourceMetrics(metrics));
  if (bytes === undefined) throw new Error("the official serializer returned nothing");
  return bytes;
}

describe("encodeMetricsExport (official serializer as the oracle)", () => {
  it("encodes counters and histograms (times, attributes, buckets, empty points, values past 2^32) as the official serializer does", () => {
    const metrics = makeMetrics();
    const ours = encodeOurs(metrics);
    const official = encodeOfficial(metrics);
    expect(decodeToPlainObject("metrics", ours)).toEqual(decodeToPlainObject("metrics", official));
    const decoded = decodeMetricsRequest(ours, "protobuf");
    expect(decoded).toEqual(decodeMetricsRequest(official, "protobuf"));
    expect(decoded.errors).toEqual([]);
    expect(decoded.points.find((p) => p.name === "istio_tcp_sent_bytes_total")).toMatchObject({ kind: "sum", monotonic: true, temporality: "cumulative", unit: "By", value: 2 ** 40 + 3 });
    const durations = decoded.points.filter((p) => p.name === "istio_request_duration_milliseconds");
    expect(durations[0]).toMatchObject({ kind: "histogram", temporality: "cumulative", count: 0, sum: 0, min: null, max: null, bounds: BOUNDS });
    expect(durations[2]).toMatchObject({ count: 2, sum: 3.75, min: 0.5, max: 3.25, startTimeUnixNano: BigInt(START_MS) * 1_000_000n, timeUnixNano: BigInt(TIME_MS) * 1_000_000n });
    expect(decoded.points[0]).toMatchObject({ serviceName: "checkout", scopeName: SCOPE, resourceAttributes: RESOURCE });
    expect(ours.length).toBeLessThanOrEqual(official.length);
  });

  it("encodes 2,000 series, a request past 1 MB, as the official serializer does", () => {
    const metrics = makeMetrics(2_000);
    const ours = encodeOurs(metrics);
    expect(ours.length).toBeGreaterThan(1_000_000);
    expect(decodeToPlainObject("metrics", ours)).toEqual(decodeToPlainObject("metrics", encodeOfficial(metrics)));
  });

  it("refuses a counter value that is not an integer, and bucket counts that do not match the bounds", () => {
    const [requests, durations] = makeMetrics(1);
    if (requests?.kind !== "sum" || durations?.kind !== "histogram") throw new Error("fixture changed");
    expect(() => encodeOurs([{ ...requests, points: [{ attributes: {}, value: 1.5 }] }])).toThrow("OTLP sum istio_requests_total: point value 1.5 is not a safe integer");
    const [point] = durations.points;
    if (point === undefined) throw new Error("fixture changed");
    expect(() => encodeOurs([{ ...durations, points: [{ ...point, counts: point.counts.slice(1) }] }])).toThrow(
      "OTLP histogram istio_request_duration_milliseconds: 19 bucket counts for 19 bounds, expected 20",
    );
  });
});
