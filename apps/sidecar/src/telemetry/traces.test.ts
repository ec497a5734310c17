import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import { AlwaysOnSampler, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { decodeTraceRequest, encodeResource, encodeScope, encodeTraceExport, startTraceBatch } from "@trellis/otlp";
import { describe, expect, it } from "vitest";
import { isErrorStatus } from "../response-flags.ts";
import { makeRequestRecord } from "./testing-records.ts";
import { setRecordAttributesAsBefore } from "./testing-sdk-spans.ts";
import type { TraceContext } from "./trace-context.ts";
import { HttpSpan, toFinishedSpan, TRACER_NAME, writeSpan, type HttpSpanEnd, type HttpSpanStart } from "./traces.ts";

const TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
const SPAN_ID = "e457b5a2e4d86bd1";
const remote = (sampled: boolean, traceState?: string): TraceContext => ({ traceId: TRACE_ID, spanId: SPAN_ID, sampled, traceState, remote: true });
const clientStart = (parent: TraceContext | null): HttpSpanStart => ({ kind: "client", method: "GET", path: "/cart/42", serverAddress: "cart", upstreamService: "cart", parent });

describe("HttpSpan sampling and ids", () => {
  it("starts a new trace without a parent, sampled at the ratio", () => {
    const spans = Array.from({ length: 50 }, () => new HttpSpan(clientStart(null), 1));
    expect(spans.every((s) => s.sampled && s.parentSpanId === null && /^[0-9a-f]{32}$/.test(s.traceId) && /^[0-9a-f]{16}$/.test(s.spanId))).toBe(true);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(50);
    expect(Array.from({ length: 50 }, () => new HttpSpan(clientStart(null), 0)).some((s) => s.sampled)).toBe(false);
    const share = Array.from({ length: 4_000 }, () => new HttpSpan(clientStart(null), 0.5)).filter((s) => s.sampled).length / 4_000;
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.55);
  });

  it("keeps the caller's decision whatever the ratio, and its trace id and trace state", () => {
    expect(new HttpSpan(clientStart(remote(true, "vendor=x")), 0)).toMatchObject({ sampled: true, traceId: TRACE_ID, parentSpanId: SPAN_ID, parentIsRemote: true, traceState: "vendor=x", remote: false });
    expect(new HttpSpan(clientStart(remote(false)), 1).sampled).toBe(false);
  });

  it("is the parent context of a child span, which knows its parent is local", () => {
    const server = new HttpSpan({ ...clientStart(remote(true)), kind: "server" }, 0);
    const client = new HttpSpan(clientStart(server), 0);
    expect(client).toMatchObject({ traceId: TRACE_ID, parentSpanId: server.spanId, parentIsRemote: false, sampled: true });
    expect(client.spanId).not.toBe(server.spanId);
  });

  it("ends once: a later end changes nothing", () => {
    const span = new HttpSpan(clientStart(null), 1);
    expect(span.end({ status: 503, flag: "UF" })).toBe(true);
    expect(span.end({ status: 200, flag: null })).toBe(false);
    expect(span).toMatchObject({ status: 503, flag: "UF" });
    expect(span.endTimeMs).toBeGreaterThanOrEqual(span.startTimeMs);
  });

  it("never makes an all-zero id", () => {
    for (let i = 0; i < 2_000; i += 1) {
      const span = new HttpSpan(clientStart(null), 0);
      expect(span.spanId).not.toBe("0000000000000000");
      expect(span.traceId).not.toBe("00000000000000000000000000000000");
    }
  });
});

/** What routing sets on a span on the way; the SDK path set the same as attributes (outbound/exchange.ts before). */
type Marks = { routeName?: string; cluster?: string; destinationSubset?: string; endpoint?: [string, number, string]; resendCount?: number; rbacDenied?: string };

const resource = { "service.name": "checkout", "service.namespace": "shop" };
const resourceField = encodeResource(resource);
const scope = encodeScope(TRACER_NAME);

function encodeOurs(span: HttpSpan): Uint8Array {
  const batch = startTraceBatch({ resource: resourceField, scope }, 1024);
  writeSpan(batch, span);
  return batch.seal();
}

function applyMarks(span: HttpSpan, marks: Marks): void {
  if (marks.routeName !== undefined) span.routeName = marks.routeName;
  if (marks.cluster !== undefined) span.cluster = marks.cluster;
  if (marks.destinationSubset !== undefined) span.destinationSubset = marks.destinationSubset;
  if (marks.endpoint !== undefined) span.setEndpoint(...marks.endpoint);
  if (marks.resendCount !== undefined) span.resendCount = marks.resendCount;
  if (marks.rbacDenied !== undefined) span.rbacDenied = marks.rbacDenied;
}

/**
 * The same exchange through the path this replaces: an SDK span with the same ids and times, its attributes set
 * as telemetry/index.ts's startHttpSpan / endHttpSpan, span-attributes.ts's setRecordAttributes and the call sites
 * set them, encoded by encodeTraceExport.
 */
async function encodeAsSdk(ours: HttpSpan, start: HttpSpanStart, marks: Marks, { status, flag, record }: HttpSpanEnd): Promise<Uint8Array> {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: new AlwaysOnSampler(),
    idGenerator: { generateTraceId: () => ours.traceId, generateSpanId: () => ours.spanId },
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const parent = start.parent;
  const context =
    parent === null
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: parent.remote, traceState: parent.traceState === undefined ? undefined : createTraceState(parent.traceState) });
  const attributes: Record<string, string | number> = { "http.request.method": start.method, "url.path": start.path, "server.address": start.serverAddress };
  if (start.serverPort !== undefined) attributes["server.port"] = start.serverPort;
  if (start.upstreamService !== undefined) attributes["trellis.upstream_service"] = start.upstreamService;
  const span = provider.getTracer(TRACER_NAME).startSpan(start.method, { kind: start.kind === "server" ? SpanKind.SERVER : SpanKind.CLIENT, attributes, startTime: ours.startTimeMs }, context);
  if (marks.routeName !== undefined) span.setAttribute("trellis.route_name", marks.routeName);
  if (marks.cluster !== undefined) span.setAttribute("trellis.cluster", marks.cluster);
  if (marks.destinationSubset !== undefined) span.setAttribute("trellis.destination_subset", marks.destinationSubset);
  if (marks.endpoint !== undefined) span.setAttributes({ "server.address": marks.endpoint[0], "server.port": marks.endpoint[1], "trellis.destination_workload": marks.endpoint[2] });
  if (marks.resendCount !== undefined) span.setAttribute("http.request.resend_count", marks.resendCount);
  if (marks.rbacDenied !== undefined) span.setAttribute("trellis.rbac_denied", marks.rbacDenied);
  if (status !== null) span.setAttribute("http.response.status_code", status);
  if (flag !== null) span.setAttribute("trellis.response_flags", flag);
  if (record !== undefined) setRecordAttributesAsBefore(span, record);
  if (isErrorStatus(status)) {
    span.setAttribute("error.type", flag ?? (status === null ? "no_response" : String(status)));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end(ours.endTimeMs);
  const finished = exporter.getFinishedSpans();
  await provider.shutdown();
  return encodeTraceExport(resourceField, scope, finished);
}

const scenarios: { name: string; start: HttpSpanStart; marks: Marks; end: HttpSpanEnd }[] = [
  {
    name: "a retried client attempt under a remote parent with trace state, a 503 UF whose record lists UF,URX",
    start: clientStart(remote(true, "congo=t61rcWkgMzE")),
    marks: { routeName: "reads", cluster: "cart|v2", destinationSubset: "v2", endpoint: ["127.0.0.1", 15101, "cart-v2-0"], resendCount: 2 },
    end: { status: 503, flag: "UF", record: makeRequestRecord({ status: 503, flags: ["UF", "URX"], attempts: 3, grpcStatus: 14, httpVersion: "HTTP/2", routeName: "reads-label" }) },
  },
  {
    name: "an inbound server span refused by RBAC, its record without route or cluster",
    start: { kind: "server", method: "POST", path: "/admin", serverAddress: "catalog", serverPort: 15006, parent: null },
    marks: { rbacDenied: "denied by DENY policy deny-admin" },
    end: { status: 403, flag: "RBAC", record: makeRequestRecord({ reporter: "destination", status: 403, flags: ["RBAC"], routeName: null, upstreamCluster: null, upstreamHost: null, userAgent: null, requestId: null, sourcePrincipal: null }) },
  },
  {
    name: "a client span cut before any response, without a record",
    start: clientStart(remote(true)),
    marks: { cluster: "cart" },
    end: { status: null, flag: "DC" },
  },
  {
    name: "a plain 200 with an empty server address and no flags",
    start: { kind: "server", method: "GET", path: "/", serverAddress: "", parent: remote(true) },
    marks: {},
    end: { status: 200, flag: null, record: makeRequestRecord() },
  },
];

describe("writeSpan", () => {
  it.each(scenarios)("encodes $name as the SDK path did", async ({ start, marks, end }) => {
    const span = new HttpSpan(start, 1);
    applyMarks(span, marks);
    span.end(end);
    const ours = decodeTraceRequest(encodeOurs(span), "protobuf");
    const before = decodeTraceRequest(await encodeAsSdk(span, start, marks, end), "protobuf");
    expect(ours.errors).toEqual([]);
    expect(ours.spans).toEqual(before.spans);
    // The test hook sees what is exported.
    expect(toFinishedSpan(span).attributes).toEqual(ours.spans[0]?.attributes);
    expect(toFinishedSpan(span)).toMatchObject({ traceId: span.traceId, spanId: span.spanId, parentSpanId: start.parent?.spanId ?? null, kind: start.kind, statusCode: ours.spans[0]?.statusCode });
  });

  it("appends many spans to one batch, each whole", () => {
    const batch = startTraceBatch({ resource: resourceField, scope }, 64);
    const spans = Array.from({ length: 300 }, (_, i) => {
      const span = new HttpSpan({ ...clientStart(null), path: `/p/${"x".repeat(i)}` }, 1);
      span.end({ status: 200, flag: null, record: makeRequestRecord() });
      writeSpan(batch, span);
      return span;
    });
    const decoded = decodeTraceRequest(batch.seal(), "protobuf");
    expect(decoded.spans.map((s) => [s.spanId, s.attributes["url.path"], s.serviceName, s.scopeName])).toEqual(spans.map((s) => [s.spanId, s.path, "checkout", TRACER_NAME]));
  });
});
