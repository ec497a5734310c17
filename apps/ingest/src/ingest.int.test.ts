// OTLP/HTTP traces end to end: the official exporters (protobuf and JSON) send to a real ingest, and every stored
// column is checked in a real, freshly migrated Postgres; then what a receiver must say about bad requests.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { Agent, request } from "node:http";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRpcStatus } from "./testing/read-protobuf.ts";
import { startIngestFixture, TEST_MAX_BODY_BYTES as MAX_BODY_BYTES, type IngestFixture } from "./testing/ingest-fixture.ts";

type ExportResult = Parameters<Parameters<ProtoExporter["export"]>[1]>[0];

/** A whole second a minute ago: inside the stored time range, and exact in every unit the tests compare. */
const SECOND = Math.floor(Date.now() / 1000) - 60;

let fixture: IngestFixture;
let baseUrl: string;

beforeAll(async () => {
  fixture = await startIngestFixture();
  baseUrl = fixture.httpUrl;
});

afterAll(async () => {
  await fixture?.stop();
});

/** One small trace (server → client + internal) with fixed, nanosecond-precise times. */
async function makeTrace(serviceVersion: string): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": serviceVersion }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer("ingest-test");
  const server = tracer.startSpan("GET /cart", {
    kind: SpanKind.SERVER,
    startTime: [SECOND, 123456789],
    attributes: { "http.request.method": "GET", "http.response.status_code": 502, "retry.count": 2, tags: ["a", "b"] },
  });
  server.addEvent("upstream reset", { attempt: 1 }, [SECOND, 200000000]);
  server.setStatus({ code: SpanStatusCode.ERROR, message: "bad gateway" });
  const parent = trace.setSpan(ROOT_CONTEXT, server);
  tracer.startSpan("GET inventory", { kind: SpanKind.CLIENT, startTime: [SECOND, 150000000] }, parent).end([SECOND, 190000500]);
  tracer.startSpan("render", { startTime: [SECOND, 300000000] }, parent).end([SECOND, 300000001]);
  server.end([SECOND, 987654321]);
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

function exportWith(exporter: ProtoExporter | JsonExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function protoExporter(): ProtoExporter {
  return new ProtoExporter({ url: `${baseUrl}/v1/traces`, timeoutMillis: 10_000 });
}

type SpanRow = {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service_name: string;
  service_namespace: string | null;
  service_version: string | null;
  name: string;
  kind: number;
  start_micros: string;
  duration_ns: string;
  status_code: number;
  status_message: string | null;
  http_status_code: number | null;
  attributes: unknown;
  resource_attributes: unknown;
  events: unknown;
};

async function findTrace(traceId: string): Promise<SpanRow[]> {
  const { rows } = await fixture.testDb.db.pool.query<SpanRow>(
    `SELECT trace_id, span_id, parent_span_id, service_name, service_namespace, service_version, name, kind,
            (extract(epoch FROM start_time) * 1000000)::bigint::text AS start_micros, duration_ns::text AS duration_ns,
            status_code, status_message, http_status_code, attributes, resource_attributes, events
       FROM spans WHERE trace_id = $1 ORDER BY start_time`,
    [traceId],
  );
  return rows;
}

async function expectStored(spans: ReadableSpan[], serviceVersion: string): Promise<void> {
  const [server, client, internal] = spans.sort((a, b) => a.startTime[1] - b.startTime[1]);
  if (!server || !client || !internal) throw new Error("expected three spans");
  const traceId = server.spanContext().traceId;
  const rows = await findTrace(traceId);
  expect(rows).toHaveLength(3);
  const serverId = server.spanContext().spanId;
  expect(rows[0]).toEqual({
    trace_id: traceId,
    span_id: serverId,
    parent_span_id: null,
    service_name: "checkout",
    service_namespace: "shop",
    service_version: serviceVersion,
    name: "GET /cart",
    kind: 2,
    start_micros: `${SECOND}123456`,
    duration_ns: String(987654321 - 123456789),
    status_code: 2,
    status_message: "bad gateway",
    http_status_code: 502,
    attributes: { "http.request.method": "GET", "http.response.status_code": 502, "retry.count": 2, tags: ["a", "b"] },
    resource_attributes: { "service.name": "checkout", "service.namespace": "shop", "service.version": serviceVersion },
    events: [{ name: "upstream reset", timeUnixNano: `${SECOND}200000000`, attributes: { attempt: 1 } }],
  });
  expect(rows[1]).toMatchObject({ span_id: client.spanContext().spanId, parent_span_id: serverId, kind: 3, duration_ns: "40000500", status_code: 0, status_message: null, http_status_code: null });
  expect(rows[2]).toMatchObject({ span_id: internal.spanContext().spanId, parent_span_id: serverId, kind: 1, duration_ns: "1", start_micros: `${SECOND}300000` });
}

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { method: "POST", body, headers });
}

async function readMessage(response: Response): Promise<string> {
  const body = (await response.json()) as { message?: unknown };
  return String(body.message);
}

describe("ingest OTLP/HTTP traces", () => {
  it("stores what the official protobuf exporter sends, once even when the batch is retried", async () => {
    const spans = await makeTrace("1.0.0-proto");
    const exporter = protoExporter();
    expect(await exportWith(exporter, spans)).toMatchObject({ code: 0 });
    expect(await exportWith(exporter, spans)).toMatchObject({ code: 0 });
    await exporter.shutdown();
    await expectStored(spans, "1.0.0-proto");
  });

  it("stores what the official JSON exporter sends", async () => {
    const spans = await makeTrace("1.0.0-json");
    const exporter = new JsonExporter({ url: `${baseUrl}/v1/traces`, timeoutMillis: 10_000 });
    expect(await exportWith(exporter, spans)).toMatchObject({ code: 0 });
    await exporter.shutdown();
    await expectStored(spans, "1.0.0-json");
  });

  it("answers a protobuf 200 with an empty ExportTraceServiceResponse", async () => {
    const response = await post("/v1/traces", new Uint8Array(), { "Content-Type": "application/x-protobuf" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-protobuf");
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it("keeps the good spans of a JSON batch with a bad span id and reports the rejected one", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const span = (spanId: string, name: string) => ({ traceId, spanId, name: `${name}\u0000`, kind: 2, startTimeUnixNano: `${SECOND}000000000`, endTimeUnixNano: `${SECOND}000001000` });
    const body = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [span("00f067aa0ba902b7", "good"), span("00f067aa0ba9", "bad")] }] }] };
    const response = await post("/v1/traces", JSON.stringify(body), { "Content-Type": "application/json; charset=utf-8" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      partialSuccess: {
        rejectedSpans: "1",
        errorMessage: 'resourceSpans[0].scopeSpans[0].spans[1]: spanId "00f067aa0ba9" is invalid (expected 8 bytes, 16 hex characters, not all zero)',
      },
    });
    const rows = await findTrace(traceId);
    expect(rows.map((row) => [row.span_id, row.name, row.service_name])).toEqual([["00f067aa0ba902b7", "good\uFFFD", "unknown_service"]]);
  });

  it("answers an undecodable body with 400 and the reason, in the request's format", async () => {
    const protobuf = await post("/v1/traces", new Uint8Array([0x0f, 1, 2, 3]), { "Content-Type": "application/x-protobuf" });
    expect(protobuf.status).toBe(400);
    expect(readRpcStatus(new Uint8Array(await protobuf.arrayBuffer()))).toEqual({
      code: 3,
      message: "protobuf body is not an ExportTraceServiceRequest: invalid wire type 7 at offset 1",
    });
    const json = await post("/v1/traces", '{"resourceSpans": [}', { "Content-Type": "application/json" });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ code: 3, message: expect.stringMatching(/^JSON body: unexpected token '}'/) });
    const gzip = await post("/v1/traces", "not gzip", { "Content-Type": "application/json", "Content-Encoding": "gzip" });
    expect(gzip.status).toBe(400);
    expect(await readMessage(gzip)).toMatch(/^the gzip body could not be decompressed: incorrect header check/);
  });

  it("refuses other content types and encodings with 415, naming the accepted ones", async () => {
    const response = await post("/v1/traces", "hello", { "Content-Type": "text/plain" });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ code: 3, message: 'Content-Type is "text/plain"; OTLP/HTTP accepts application/x-protobuf or application/json' });
    const brotli = await post("/v1/traces", "{}", { "Content-Type": "application/json", "Content-Encoding": "br" });
    expect(brotli.status).toBe(415);
    expect(await readMessage(brotli)).toMatch(/Content-Encoding "br" is not supported/);
  });

  it("refuses bodies over the limit with 413, before and after gzip decompression", async () => {
    const large = new Uint8Array(MAX_BODY_BYTES + 1);
    const plain = await post("/v1/traces", large, { "Content-Type": "application/x-protobuf" });
    expect(plain.status).toBe(413);
    const bomb = gzipSync(new Uint8Array(4 * MAX_BODY_BYTES));
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES);
    const inflated = await post("/v1/traces", bomb, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
    expect(inflated.status).toBe(413);
    expect(await inflated.json()).toEqual({
      code: 8,
      message: `the request body is larger than ${MAX_BODY_BYTES} bytes (after gzip decompression); export smaller batches or raise TRELLIS_INGEST_MAX_BODY_BYTES`,
    });
  });

  it("reads and drops a refused body so the connection stays usable", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (contentType: string, body: Uint8Array) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request(`${baseUrl}/v1/traces`, { method: "POST", agent, headers: { "Content-Type": contentType } }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on("error", reject);
        req.end(body);
      });
    try {
      expect(await send("text/plain", new Uint8Array(64 * 1024))).toEqual({ status: 415, reused: false });
      expect(await send("application/x-protobuf", new Uint8Array())).toEqual({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  });

  it("answers health, unknown paths and wrong methods", async () => {
    const health = await fetch(`${baseUrl}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: "ok", queuedItems: 0, queueLimit: 100_000 }]);
    const missing = await fetch(`${baseUrl}/v1/profiles`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 5, message: "no route for GET /v1/profiles; OTLP/HTTP is served at POST /v1/traces, /v1/metrics and /v1/logs" });
    const get = await fetch(`${baseUrl}/v1/metrics`);
    expect([get.status, get.headers.get("allow"), await get.json()]).toEqual([405, "POST", { code: 3, message: "GET is not allowed on /v1/metrics; use POST" }]);
  });
});
