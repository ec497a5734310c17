// The hand-written trace encoder against the official serializer as the oracle: the same SDK spans, encoded by
// both, must decode to the same message (every field, defaults included) and to the same records through
// this package's own decoder.
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { describe, expect, it } from "vitest";
import { makeExoticSpan, makeSdkSpans } from "../testing/sdk-spans.ts";
import { decodeTraceRequest } from "../trace/decode-trace-request.ts";
import { encodeResource, encodeScope } from "./encode-common.ts";
import { encodeTraceExport } from "./encode-trace.ts";
import { decodeToPlainObject } from "./testing-decode.ts";

/** Spans with what makeSdkSpans lacks: a remote parent with trace state, links, dropped counts, a 0-length name. */
async function makeLinkedSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "cart" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    spanLimits: { attributeCountLimit: 2, eventCountLimit: 1, linkCountLimit: 1 },
  });
  const tracer = provider.getTracer("linked", "2.0.0");
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("vendor=x,other=y"),
  });
  const linkContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.NONE, isRemote: true, traceState: new TraceState("a=1") };
  const span = tracer.startSpan("", { kind: SpanKind.CONSUMER, attributes: { a: 1, b: "two", c: true }, links: [{ context: linkContext, attributes: { "link.kind": "follows" } }, { context: linkContext }] }, remote);
  span.addEvent("first", [1767225600, 1]);
  span.addEvent("second");
  span.end();
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

function encodeOurs(spans: ReadableSpan[]): Uint8Array {
  const first = spans[0];
  if (first === undefined) throw new Error("no spans");
  const scope = first.instrumentationScope;
  return encodeTraceExport(encodeResource(first.resource.attributes), encodeScope(scope.name, scope.version), spans);
}

function encodeOfficial(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (bytes === undefined) throw new Error("the official serializer returned nothing");
  return bytes;
}

describe("encodeTraceExport (official serializer as the oracle)", () => {
  it("encodes SDK spans (kinds, times, attributes, events, status, parents) as the official serializer does", async () => {
    const spans = await makeSdkSpans();
    const ours = encodeOurs(spans);
    expect(decodeToPlainObject("trace", ours)).toEqual(decodeToPlainObject("trace", encodeOfficial(spans)));
    expect(decodeTraceRequest(ours, "protobuf")).toEqual(decodeTraceRequest(encodeOfficial(spans), "protobuf"));
    expect(decodeTraceRequest(ours, "protobuf").spans).toHaveLength(3);
    // Proto3 defaults are left out: the hand-written bytes are never larger.
    expect(ours.length).toBeLessThanOrEqual(encodeOfficial(spans).length);
  });

  it("encodes trace state, remote-parent flags, links and dropped counts", async () => {
    const spans = await makeLinkedSpans();
    expect(spans[0]?.droppedAttributesCount).toBe(1);
    expect(spans[0]?.droppedEventsCount).toBe(1);
    expect(spans[0]?.droppedLinksCount).toBe(1);
    const decoded = decodeToPlainObject("trace", encodeOurs(spans));
    expect(decoded).toEqual(decodeToPlainObject("trace", encodeOfficial(spans)));
    expect(JSON.stringify(decoded)).toContain('"traceState":"vendor=x,other=y"');
  });

  it("encodes every attribute value type (bytes, maps, int64 beyond 2^53, negatives, NaN, empty arrays, __proto__)", () => {
    const first = makeExoticSpan();
    // One resource and scope object, as one provider's tracer gives (the official serializer groups by identity).
    const spans = [first, { ...makeExoticSpan({ spanId: "b7ad6b7169203332", traceFlags: 0 }), resource: first.resource, instrumentationScope: first.instrumentationScope }];
    const ours = encodeOurs(spans);
    expect(decodeToPlainObject("trace", ours)).toEqual(decodeToPlainObject("trace", encodeOfficial(spans)));
    expect(decodeTraceRequest(ours, "protobuf")).toEqual(decodeTraceRequest(encodeOfficial(spans), "protobuf"));
  });

  it("encodes a batch of 512 spans with long attribute values, as the official serializer does", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ resource: resourceFromAttributes({ "service.name": "bulk" }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer("bulk");
    for (let i = 0; i < 512; i += 1) {
      tracer.startSpan(`GET ${i}`, { kind: SpanKind.CLIENT, attributes: { "url.path": `/p/${"x".repeat(i)}`, "user_agent.original": "ü".repeat(i % 70), n: i * 1e7 } }).end();
    }
    const spans = exporter.getFinishedSpans();
    await provider.shutdown();
    expect(decodeToPlainObject("trace", encodeOurs(spans))).toEqual(decodeToPlainObject("trace", encodeOfficial(spans)));
  });

  it("encodes an empty batch as one resource and scope with no spans", async () => {
    const ours = encodeTraceExport(encodeResource({ "service.name": "idle" }), encodeScope("s"), []);
    expect(decodeTraceRequest(ours, "protobuf").spans).toEqual([]);
  });
});
