// Test fixtures: real spans made by the OpenTelemetry JS SDK, and hand-built ReadableSpans for the attribute
// types the SDK's API refuses (bytes, maps, int64 beyond 2^53), so decoding is checked against the SDK's own
// serializers rather than against our idea of the wire format.
import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type HrTime, type Link, type SpanContext } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";

export const START: HrTime = [1767225600, 123456789];

/** One link as an SDK makes it, and one whose span id is all zero (decoding drops it, keeping the span). */
export const SDK_LINKS: Link[] = [
  {
    context: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1, traceState: createTraceState("congo=t61rcWkgMzE") },
    attributes: { "link.reason": "batch", "messaging.batch.message_count": 3 },
  },
  { context: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "0000000000000000", traceFlags: 0 } },
];

export async function makeSdkSpans(): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "1.4.2", "host.name": "node-1" }),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer("trellis-test", "0.1.0");
  const parent = tracer.startSpan("GET /cart", {
    kind: SpanKind.SERVER,
    startTime: START,
    links: SDK_LINKS,
    attributes: { "http.request.method": "GET", "http.response.status_code": 503, "retry.ratio": 0.25, "cache.hit": false, tags: ["a", "b"], sizes: [1, 2, 3] },
  });
  parent.addEvent("retry", { attempt: 2, reason: "connect timeout" }, [1767225600, 223456789]);
  parent.setStatus({ code: SpanStatusCode.ERROR, message: "upstream reset" });
  const child = tracer.startSpan("SELECT carts", { kind: SpanKind.CLIENT, startTime: [1767225600, 150000001], attributes: { "http.status_code": 200 } }, trace.setSpan(ROOT_CONTEXT, parent));
  child.setStatus({ code: SpanStatusCode.OK });
  child.end([1767225600, 160000002]);
  const internal = tracer.startSpan("render", { startTime: [1767225600, 170000000] }, trace.setSpan(ROOT_CONTEXT, parent));
  internal.end([1767225600, 170000000]);
  parent.end([1767225600, 987654321]);
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** A ReadableSpan with attribute values only the wire format can carry, built without the SDK's validation. */
export function makeExoticSpan(overrides: Partial<SpanContext> = {}): ReadableSpan {
  const context: SpanContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1, ...overrides };
  const attributes = {
    bytes: new Uint8Array([0, 1, 2, 250]),
    nested: { inner: { deep: [1, "two", true] }, count: 3 },
    big: 2 ** 60,
    negative: -42,
    nan: Number.NaN,
    empty: [],
    ["__proto__"]: "kept as data",
  };
  return {
    name: "exotic\u0000name",
    kind: SpanKind.PRODUCER,
    spanContext: () => context,
    parentSpanContext: undefined,
    startTime: [1767225601, 0],
    endTime: [1767225601, 5],
    status: { code: SpanStatusCode.UNSET },
    // The API's Attributes type has no bytes or maps; the OTLP serializers do support them.
    attributes: attributes as unknown as ReadableSpan["attributes"],
    links: [],
    events: [],
    duration: [0, 5],
    ended: true,
    resource: resourceFromAttributes({ "telemetry.sdk.language": "go" }),
    instrumentationScope: { name: "exotic" },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

export function hrTimeToNanos([seconds, nanos]: HrTime): bigint {
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}
