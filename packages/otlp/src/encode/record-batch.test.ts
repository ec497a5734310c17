// Records appended one at a time (beginSpan / finishSpan, beginLogRecord / finishLogRecord, attributes through the
// batch) must encode the very message encodeTraceExport / encodeLogsExport make from the same records, which the
// official serializers check (encode-trace.test.ts, encode-logs.test.ts); sealing adds the framing without copying.
import { describe, expect, it } from "vitest";
import { decodeLogsRequest } from "../logs/decode-logs-request.ts";
import { decodeTraceRequest } from "../trace/decode-trace-request.ts";
import { attributeKey, encodeResource, encodeScope, type EncodableAttributes } from "./encode-common.ts";
import { beginLogRecord, encodeLogsExport, finishLogRecord, startLogsBatch, type EncodableLogRecord } from "./encode-logs.ts";
import { beginSpan, encodeTraceExport, finishSpan, OTLP_SPAN_KIND, startTraceBatch, type EncodableSpan, type SpanHead } from "./encode-trace.ts";
import type { RecordBatch } from "./record-batch.ts";
import { decodeToPlainObject } from "./testing-decode.ts";

const resource = encodeResource({ "service.name": "checkout", "service.namespace": "shop", "telemetry.sdk.language": "nodejs" });
const scope = encodeScope("@trellis/sidecar");
const framing = { resource, scope };

type Attributes = Record<string, string | number>;

type OwnSpan = SpanHead & { attributes: Attributes; statusCode: number; sampled: boolean; parentIsRemote: boolean };

function makeSpan(i: number, overrides: Partial<OwnSpan> = {}): OwnSpan {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: (0x1000 + i).toString(16).padStart(16, "0"),
    traceState: i % 2 === 0 ? "vendor=x,other=y" : undefined,
    parentSpanId: i % 3 === 0 ? null : "00f067aa0ba902b7",
    name: "GET",
    kind: i % 2 === 0 ? OTLP_SPAN_KIND.CLIENT : OTLP_SPAN_KIND.SERVER,
    startTimeMs: 1767225600123 + i + 0.25,
    endTimeMs: 1767225600123 + i + 12.5,
    attributes: { "http.request.method": "GET", "url.path": `/cart/${"x".repeat(i % 200)}`, "server.port": 15001, "http.response.status_code": 503, ratio: 0.25, big: 2 ** 40 },
    statusCode: i % 4 === 0 ? 2 : 0,
    sampled: i % 5 !== 0,
    parentIsRemote: i % 3 === 1,
    ...overrides,
  };
}

function writeAttributes(batch: RecordBatch, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "string") batch.string(attributeKey(name), value);
    else batch.number(attributeKey(name), value);
  }
}

function appendSpans(spans: OwnSpan[], expectedBytes = 64): Uint8Array {
  const batch = startTraceBatch(framing, expectedBytes);
  for (const span of spans) {
    const at = beginSpan(batch, span);
    writeAttributes(batch, span.attributes);
    finishSpan(batch, at, span.statusCode, span.sampled ? 1 : 0, span.parentIsRemote);
  }
  expect(batch.count).toBe(spans.length);
  return batch.seal();
}

function hrTime(ms: number): [number, number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** The same span as the SDK would hand it to encodeTraceExport (API SpanKind starts at INTERNAL = 0). */
function asSdkSpan(span: OwnSpan): EncodableSpan {
  const traceState = span.traceState;
  const context = { traceId: span.traceId, spanId: span.spanId, traceFlags: span.sampled ? 1 : 0, traceState: traceState === undefined ? undefined : { serialize: () => traceState } };
  return {
    name: span.name,
    kind: span.kind - 1,
    spanContext: () => context,
    parentSpanContext: span.parentSpanId === null ? undefined : { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: 1, isRemote: span.parentIsRemote },
    startTime: hrTime(span.startTimeMs),
    endTime: hrTime(span.endTimeMs),
    attributes: span.attributes as EncodableAttributes,
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: span.statusCode },
  };
}

describe("spans appended to a trace batch", () => {
  it("encode what encodeTraceExport makes of the same spans: ids, trace state, parent, kind, times, attributes, status, flags", () => {
    const spans = Array.from({ length: 12 }, (_, i) => makeSpan(i));
    const appended = appendSpans(spans);
    const whole = encodeTraceExport(resource, scope, spans.map(asSdkSpan));
    expect(decodeToPlainObject("trace", appended)).toEqual(decodeToPlainObject("trace", whole));
    expect(Buffer.from(appended).equals(Buffer.from(whole))).toBe(true);
    expect(decodeTraceRequest(appended, "protobuf").spans[1]).toMatchObject({ parentSpanId: "00f067aa0ba902b7", kind: 2, statusCode: 0, startTimeUnixNano: 1767225600124250000n, endTimeUnixNano: 1767225600136500000n });
  });

  it("seal batches whose records need multi-byte lengths, from a buffer that had to grow", () => {
    const spans = Array.from({ length: 400 }, (_, i) => makeSpan(i));
    const appended = appendSpans(spans, 16);
    // Past 16 KiB the ScopeSpans and ResourceSpans lengths take three bytes.
    expect(appended.length).toBeGreaterThan(16_384 * 2);
    expect(Buffer.from(appended).equals(Buffer.from(encodeTraceExport(resource, scope, spans.map(asSdkSpan))))).toBe(true);
    expect(decodeTraceRequest(appended, "protobuf").spans).toHaveLength(400);
  });

  it("seal an empty batch as one resource and scope with no spans", () => {
    expect(Buffer.from(startTraceBatch(framing, 0).seal()).equals(Buffer.from(encodeTraceExport(resource, scope, [])))).toBe(true);
  });
});

describe("log records appended to a logs batch", () => {
  type OwnLog = { timeMs: number; severityNumber: number; severityText: string; body: string; attributes: Attributes; trace: { traceId: string; spanId: string; sampled: boolean } | null; observedMs: number };

  const logs: OwnLog[] = Array.from({ length: 300 }, (_, i) => ({
    timeMs: 1767225600000 + i,
    severityNumber: i % 10 === 0 ? 13 : 9,
    severityText: i % 10 === 0 ? "WARN" : "INFO",
    body: `[2026-01-01T00:00:00.${i}Z] "GET /cart/ü${"x".repeat(i)} HTTP/1.1" 200`,
    attributes: { method: "GET", response_code: 200, duration: i, upstream_service_time: 1.5 },
    trace: i % 3 === 0 ? null : { traceId: "80f198ee56343ba864fe8b2a57d3eff7", spanId: "e457b5a2e4d86bd1", sampled: i % 3 === 1 },
    observedMs: 1767225600500 + i,
  }));

  const asSdkLog = (log: OwnLog): EncodableLogRecord => ({
    hrTime: hrTime(log.timeMs),
    hrTimeObserved: hrTime(log.observedMs),
    spanContext: log.trace === null ? undefined : { traceId: log.trace.traceId, spanId: log.trace.spanId, traceFlags: log.trace.sampled ? 1 : 0 },
    severityNumber: log.severityNumber,
    severityText: log.severityText,
    body: log.body,
    attributes: log.attributes,
    droppedAttributesCount: 0,
  });

  it("encode what encodeLogsExport makes of the same records: time, severity, body, attributes, trace context, observed time", () => {
    const batch = startLogsBatch(framing, 1024);
    for (const log of logs) {
      const at = beginLogRecord(batch, log.timeMs, log.severityNumber, log.severityText, log.body);
      writeAttributes(batch, log.attributes);
      finishLogRecord(batch, at, log.trace?.traceId ?? null, log.trace?.spanId ?? "", log.trace?.sampled ? 1 : 0, log.observedMs);
    }
    expect(batch.count).toBe(logs.length);
    const appended = batch.seal();
    const whole = encodeLogsExport(resource, scope, logs.map(asSdkLog));
    expect(decodeToPlainObject("logs", appended)).toEqual(decodeToPlainObject("logs", whole));
    expect(Buffer.from(appended).equals(Buffer.from(whole))).toBe(true);
    expect(decodeLogsRequest(appended, "protobuf").logs[1]).toMatchObject({ traceId: "80f198ee56343ba864fe8b2a57d3eff7", severityText: "INFO", attributes: { upstream_service_time: 1.5 } });
  });
});
