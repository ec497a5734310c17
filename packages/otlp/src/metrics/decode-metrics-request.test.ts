// Decoding is checked against what the official OpenTelemetry JS serializers put on the wire, in both formats,
// for metrics made by the real SDK (counter, histogram, gauge, up-down counter).
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, MetricReader, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { isAppError } from "@trellis/runtime";
import { decodeMetricsRequest } from "./decode-metrics-request.ts";

class ManualReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function makeSdkMetrics(): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const resource = resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "1.2.0" });
  const meter = new MeterProvider({ resource, readers: [reader] }).getMeter("test-scope");
  const labels = { reporter: "source", response_code: "200" };
  meter.createCounter("istio_requests_total").add(3, labels);
  const histogram = meter.createHistogram("istio_request_duration_milliseconds", { unit: "ms", advice: { explicitBucketBoundaries: [1, 5, 10] } });
  for (const value of [0.5, 4, 7, 100]) histogram.record(value, labels);
  meter.createGauge("queue_depth").record(-2.5, { queue: "spans" });
  meter.createUpDownCounter("in_flight", { valueType: 1 }).add(-4);
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics;
}

const serializers = { protobuf: ProtobufMetricsSerializer, json: JsonMetricsSerializer } as const;

describe.each(["protobuf", "json"] as const)("decodeMetricsRequest (%s, official SDK serializer)", (format) => {
  it("turns every data point into a record with its kind, labels and values", async () => {
    const body = serializers[format].serializeRequest(await makeSdkMetrics());
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

