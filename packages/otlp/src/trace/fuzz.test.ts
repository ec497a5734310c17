// A seeded mutation fuzz of the trace decoder: whatever arrives, decoding either yields storable, valid span
// records or throws AppError("BAD_REQUEST") — never another exception, never a hang (see testing/fuzz-decoder.ts).
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { describe, expect, it } from "vitest";
import type { SpanRecord } from "../span-record.ts";
import { fuzzDecoder, isStorable, makeDeeplyNestedRequest, type Nesting } from "../testing/fuzz-decoder.ts";
import { createRandom } from "../testing/random.ts";
import { makeRandomTraceRequest } from "../testing/random-otlp.ts";
import { makeExoticSpan, makeSdkSpans } from "../testing/sdk-spans.ts";
import { decodeTraceRequest, type OtlpFormat } from "./decode-trace-request.ts";
import type { DecodedTraces } from "./to-span-records.ts";

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

function checkSpans({ spans }: DecodedTraces): void {
  for (const span of spans) {
    expect(span.traceId).toMatch(TRACE_ID);
    expect(span.spanId).toMatch(SPAN_ID);
    expect([0, 1, 2, 3, 4, 5]).toContain(span.kind);
    expect([0, 1, 2]).toContain(span.statusCode);
    expect(span.startTimeUnixNano > 0n && span.endTimeUnixNano >= span.startTimeUnixNano && span.endTimeUnixNano < 2n ** 63n).toBe(true);
    for (const link of span.links) expect(`${link.traceId} ${link.spanId}`).toMatch(/^[0-9a-f]{32} [0-9a-f]{16}$/);
  }
  expect(isStorable(spans satisfies SpanRecord[])).toBe(true);
}

async function sdkBody(format: OtlpFormat): Promise<Uint8Array> {
  const serializer = format === "protobuf" ? ProtobufTraceSerializer : JsonTraceSerializer;
  const body = serializer.serializeRequest([...(await makeSdkSpans()), makeExoticSpan()]);
  if (!body) throw new Error("serializer returned nothing");
  return body;
}

describe("decodeTraceRequest under random mutation", () => {
  it("protobuf: 20,000 mutated bodies decode or fail with BAD_REQUEST", { timeout: 120_000 }, async () => {
    const random = createRandom(5);
    const bodies = [await sdkBody("protobuf"), ...Array.from({ length: 5 }, () => makeRandomTraceRequest(random))];
    const counts = fuzzDecoder({ bodies, decode: (body) => decodeTraceRequest(body, "protobuf"), check: checkSpans, iterations: 20_000, seed: 20260101 });
    // Both outcomes must actually occur, or the fuzz is not exercising anything.
    expect(counts.decoded).toBeGreaterThan(2_000);
    expect(counts.refused).toBeGreaterThan(2_000);
  });

  it("json: 1500 mutated bodies decode or fail with BAD_REQUEST", { timeout: 60_000 }, async () => {
    const counts = fuzzDecoder({ bodies: [await sdkBody("json")], decode: (body) => decodeTraceRequest(body, "json"), check: checkSpans, iterations: 1500, seed: 7 });
    expect(counts.decoded).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(100);
  });

  it.each(["arrays", "maps", "groups"] satisfies Nesting[])("protobuf: %s nested up to 5000 deep are decoded up to the limit, refused past it", (nesting) => {
    for (const levels of [1, 10, 30, 120, 200, 5000]) {
      const decode = () => decodeTraceRequest(makeDeeplyNestedRequest(levels, nesting), "protobuf");
      if (levels <= 30) expect(decode().rejectedSpans).toBe(0);
      else expect(decode).toThrow(/^protobuf body is not an ExportTraceServiceRequest: messages nest deeper than 100 levels/);
    }
  });
});
