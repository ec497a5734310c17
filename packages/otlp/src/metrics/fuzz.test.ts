// A seeded mutation fuzz of the metrics decoder: whatever arrives, decoding either yields storable, valid data
// points or throws AppError("BAD_REQUEST") — never another exception, never a hang (see testing/fuzz-decoder.ts).
import { ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import { fuzzDecoder, isStorable, makeDeeplyNestedRequest, type Nesting } from "../testing/fuzz-decoder.ts";
import { createRandom } from "../testing/random.ts";
import { makeRandomMetricsRequest } from "../testing/random-otlp.ts";
import { makeSdkMetrics } from "../testing/sdk-metrics.ts";
import { decodeMetricsRequest } from "./decode-metrics-request.ts";
import type { DecodedMetrics } from "./metric-record.ts";

const KINDS = ["gauge", "sum", "histogram", "exponential_histogram", "summary"];

function checkPoints({ points }: DecodedMetrics): void {
  for (const point of points) {
    expect(KINDS).toContain(point.kind);
    expect(point.name).not.toBe("");
    expect(point.timeUnixNano > 0n && point.timeUnixNano < 2n ** 63n && point.startTimeUnixNano < 2n ** 63n).toBe(true);
    expect(point.bucketCounts.length === 0 || point.bucketCounts.length === point.bounds.length + 1).toBe(true);
    expect(point.exponential === null).toBe(point.kind !== "exponential_histogram");
  }
  expect(isStorable(points)).toBe(true);
}

describe("decodeMetricsRequest under random mutation", () => {
  it("protobuf: 20,000 mutated bodies decode or fail with BAD_REQUEST", { timeout: 120_000 }, async () => {
    const sdkBody = ProtobufMetricsSerializer.serializeRequest(await makeSdkMetrics());
    if (!sdkBody) throw new Error("serializer returned nothing");
    const random = createRandom(7);
    const bodies = [sdkBody, ...Array.from({ length: 5 }, () => makeRandomMetricsRequest(random))];
    const counts = fuzzDecoder({ bodies, decode: (body) => decodeMetricsRequest(body, "protobuf"), check: checkPoints, iterations: 20_000, seed: 20260103 });
    expect(counts.decoded).toBeGreaterThan(2_000);
    expect(counts.refused).toBeGreaterThan(2_000);
  });

  it.each(["arrays", "maps", "groups"] satisfies Nesting[])("protobuf: %s nested up to 5000 deep are decoded up to the limit, refused past it", (nesting) => {
    for (const levels of [1, 10, 30, 120, 200, 5000]) {
      const decode = () => decodeMetricsRequest(makeDeeplyNestedRequest(levels, nesting), "protobuf");
      if (levels <= 30) expect(decode().rejectedDataPoints).toBe(0);
      else expect(decode).toThrow(/^protobuf body is not an ExportMetricsServiceRequest: messages nest deeper than 100 levels/);
    }
  });
});
