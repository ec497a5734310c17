// Decoding is checked against what the official OpenTelemetry JS serializers put on the wire, in both formats,
// for metrics made by the real SDK (counter, histogram, gauge, up-down counter).
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { DataPointType } from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { isAppError } from "@trellis/runtime";
import { makeSdkMetrics } from "../testing/sdk-metrics.ts";
import { decodeMetricsRequest } from "./decode-metrics-request.ts";

const serializers = { protobuf: ProtobufMetricsSerializer, json: JsonMetricsSerializer } as const;

describe.each(["protobuf", "json"] as const)("decodeMetricsRequest (%s, official SDK serializer)", (format) => {
  it("turns every data point into a record with its kind, labels and values", async () => {
    const metrics = await makeSdkMetrics();
    const body = serializers[format].serializeRequest(metrics);
    if (!body) throw new Error("the serializer returned nothing");
    const decoded = decodeMetricsRequest(body, format);
    expect(decoded.errors).toEqual([]);
    const byName = new Map(decoded.points.map((point) => [point.name, point]));
    expect(byName.get("istio_requests_total")).toMatchObject({
      serviceName: "checkout",
      serviceNamespace: "shop",
      serviceVersion: "1.2.0",
      scopeName: "test-scope",
      kind: "sum",
      temporality: "cumulative",
      monotonic: true,
      attributes: { reporter: "source", response_code: "200" },
      value: 3,
    });
    expect(byName.get("istio_request_duration_milliseconds")).toMatchObject({
      kind: "histogram",
      unit: "ms",
      temporality: "cumulative",
      count: 4,
      sum: 111.5,
      min: 0.5,
      max: 100,
      bounds: [1, 5, 10],
      bucketCounts: [1, 1, 1, 1],
      value: null,
    });
    expect(byName.get("queue_depth")).toMatchObject({ kind: "gauge", value: -2.5, attributes: { queue: "spans" } });
    expect(byName.get("in_flight")).toMatchObject({ kind: "sum", monotonic: false, value: -4 });
    for (const point of decoded.points) expect(point.timeUnixNano).toBeGreaterThan(1_700_000_000_000_000_000n);
    for (const point of decoded.points) if (point.kind !== "exponential_histogram") expect(point.exponential).toBeNull();
    // Exponential buckets as the SDK aggregated them.
    const sdkPoint = metrics.scopeMetrics[0]?.metrics.find((metric) => metric.descriptor.name === "request_size_bytes");
    if (sdkPoint?.dataPointType !== DataPointType.EXPONENTIAL_HISTOGRAM) throw new Error("the SDK made no exponential histogram");
    const sdkValue = sdkPoint.dataPoints[0]?.value;
    expect(byName.get("request_size_bytes")).toMatchObject({
      kind: "exponential_histogram",
      count: 6,
      sum: 8466,
      min: 0,
      max: 4100,
      bounds: [],
      bucketCounts: [],
      exponential: {
        scale: sdkValue?.scale,
        zeroCount: 1,
        positive: { offset: sdkValue?.positive.offset, counts: sdkValue?.positive.bucketCounts },
        negative: { offset: 0, counts: [] },
      },
    });
    expect(byName.get("request_size_bytes")?.exponential?.positive.counts.reduce((a, b) => a + b, 0)).toBe(5);
  });
});

describe("decodeMetricsRequest validation", () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it("rejects points without a time or with buckets that do not match the bounds, keeping the rest", () => {
    const point = (time: string, extra: object = {}) => ({ timeUnixNano: time, count: "2", explicitBounds: [1], bucketCounts: ["1", "1"], ...extra });
    const body = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: "h", histogram: { aggregationTemporality: "AGGREGATION_TEMPORALITY_DELTA", dataPoints: [point("5"), point("0"), point("6", { bucketCounts: ["2"] })] } },
                { name: "", gauge: { dataPoints: [{ timeUnixNano: "1", asDouble: 1 }] } },
                { name: "empty" },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeMetricsRequest(encode(body), "json");
    expect(decoded.points).toHaveLength(1);
    expect(decoded.points[0]).toMatchObject({ name: "h", temporality: "delta", serviceName: "unknown_service", count: 2, bucketCounts: [1, 1] });
    expect(decoded.rejectedDataPoints).toBe(4);
    expect(decoded.errors).toEqual([
      "resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[1]: timeUnixNano is missing (it is required: unix time in nanoseconds)",
      "resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[2]: bucketCounts has 1 entries for 1 explicitBounds (expected 2)",
      "resourceMetrics[0].scopeMetrics[0].metrics[1]: name is missing",
      'resourceMetrics[0].scopeMetrics[0].metrics[2]: metric "empty" has no data (expected gauge, sum, histogram, exponentialHistogram or summary)',
    ]);
  });

  it("keeps both sides of an exponential histogram, and refuses a scale that is not a 32-bit integer", () => {
    const point = { timeUnixNano: "9", count: "7", zeroCount: "1", scale: -2, positive: { offset: -3, bucketCounts: ["2", "1"] }, negative: { bucketCounts: [3] } };
    const metric = (p: object) => ({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "e", exponentialHistogram: { aggregationTemporality: 1, dataPoints: [p] } }] }] }] });
    expect(decodeMetricsRequest(encode(metric(point)), "json").points[0]).toMatchObject({
      kind: "exponential_histogram",
      temporality: "delta",
      count: 7,
      exponential: { scale: -2, zeroCount: 1, positive: { offset: -3, counts: [2, 1] }, negative: { offset: 0, counts: [3] } },
    });
    expect(() => decodeMetricsRequest(encode(metric({ ...point, scale: 2 ** 31 })), "json")).toThrow(
      "JSON body: resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0].scale must be a 32-bit integer, got 2147483648",
    );
  });

  it("names the path of a wrongly typed JSON value and the wire problem of a bad protobuf body", () => {
    const body = { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: "x", sum: { dataPoints: [{ timeUnixNano: "soon" }] } }] }] }] };
    expect(() => decodeMetricsRequest(encode(body), "json")).toThrow(
      'JSON body: resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0].timeUnixNano must be an integer string (unsigned 64-bit, e.g. "1767225600000000000"), got "soon"',
    );
    try {
      decodeMetricsRequest(new Uint8Array([0x0f, 1, 2, 3]), "protobuf");
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error) && error.code).toBe("BAD_REQUEST");
      expect((error as Error).message).toBe("protobuf body is not an ExportMetricsServiceRequest: invalid wire type 7 at offset 1");
    }
    expect(() => decodeMetricsRequest(encode({ resourceMetrics: [] }), "protobuf")).toThrow(/looks like JSON/);
  });

  it("accepts an empty request", () => {
    expect(decodeMetricsRequest(new Uint8Array(), "protobuf")).toEqual({ points: [], rejectedDataPoints: 0, errors: [] });
    expect(decodeMetricsRequest(encode({}), "json")).toEqual({ points: [], rejectedDataPoints: 0, errors: [] });
  });
});

