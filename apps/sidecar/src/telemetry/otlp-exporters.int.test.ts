// The sidecar's span and log exporters against a real loopback OTLP/HTTP receiver: what they POST decodes with
// @trellis/otlp, and every way an export can fail (error status, refused connection, no answer in time) is reported
// as FAILED, which drop-counting.ts counts.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { decodeLogsRequest, decodeTraceRequest } from "@trellis/otlp";
import { afterEach, describe, expect, it } from "vitest";
import { createLogExporter, createSpanExporter } from "./otlp-exporters.ts";

const resource = resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop" });

type Receiver = { url: string; bodies: { path: string; contentType: string; authorization: string | undefined; body: Uint8Array }[]; connections: () => number; close: () => Promise<void> };

async function startReceiver(answer: (res: http.ServerResponse) => void): Promise<Receiver> {
  const bodies: Receiver["bodies"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      bodies.push({ path: req.url ?? "", contentType: String(req.headers["content-type"]), authorization: req.headers.authorization, body: new Uint8Array(Buffer.concat(chunks)) });
      answer(res);
    });
  });
  let connections = 0;
  server.on("connection", () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    connections: () => connections,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer("@trellis/sidecar");
  for (let i = 0; i < 3; i += 1) tracer.startSpan("GET", { attributes: { "url.path": `/cart/${i}` } }).end();
  return memory.getFinishedSpans();
}

function exportOnce<T>(exporter: { export: (items: T[], done: (r: ExportResult) => void) => void }, items: T[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(items, resolve));
}

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe("createSpanExporter", () => {
  it("POSTs protobuf to /v1/traces that decodes to the spans, on one kept-alive connection, with the ingest token", async () => {
    const receiver = await startReceiver((res) => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
    receivers.push(receiver);
    const headers = { authorization: "Bearer s3cret" };
    const exporter = createSpanExporter({ url: `${receiver.url}/v1/traces`, headers, resource, scopeName: "@trellis/sidecar" });
    const spans = makeSpans();
    expect(await exportOnce(exporter, spans)).toEqual({ code: ExportResultCode.SUCCESS });
    expect(await exportOnce(exporter, spans.slice(0, 1))).toEqual({ code: ExportResultCode.SUCCESS });
    await exporter.shutdown();
    expect(receiver.connections()).toBe(1);
    expect(receiver.bodies.map((b) => [b.path, b.contentType, b.authorization])).toEqual([
      ["/v1/traces", "application/x-protobuf", "Bearer s3cret"],
      ["/v1/traces", "application/x-protobuf", "Bearer s3cret"],
    ]);
    const decoded = decodeTraceRequest(receiver.bodies[0]?.body ?? new Uint8Array(), "protobuf");
    expect(decoded.spans.map((s) => [s.serviceName, s.name, s.attributes["url.path"], s.spanId])).toEqual(spans.map((s) => ["checkout", "GET", s.attributes["url.path"], s.spanContext().spanId]));
  });

  it("tries a batch again when the collector pushes back (503 with Retry-After), and succeeds once it takes it", async () => {
    let answered = 0;
    const receiver = await startReceiver((res) => {
      answered += 1;
      if (answered === 1) res.writeHead(503, { "retry-after": "0" }).end("overloaded");
      else res.writeHead(200).end();
    });
    receivers.push(receiver);
    const exporter = createSpanExporter({ url: `${receiver.url}/v1/traces`, resource, scopeName: "@trellis/sidecar" });
    const result = await exportOnce(exporter, makeSpans());
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.bodies).toHaveLength(2);
    expect(decodeTraceRequest(receiver.bodies[1]?.body ?? new Uint8Array(), "protobuf")).toEqual(
      decodeTraceRequest(receiver.bodies[0]?.body ?? new Uint8Array(), "protobuf"),
    );
    await exporter.shutdown();
  });

  it("does not retry an answer that will not change (400)", async () => {
    const receiver = await startReceiver((res) => res.writeHead(400).end("bad batch"));
    receivers.push(receiver);
    const exporter = createSpanExporter({ url: `${receiver.url}/v1/traces`, resource, scopeName: "@trellis/sidecar" });
    expect((await exportOnce(exporter, makeSpans())).code).toBe(ExportResultCode.FAILED);
    expect(receiver.bodies).toHaveLength(1);
    await exporter.shutdown();
  });

  it("reports FAILED for an error status, a refused connection and a collector that never answers", async () => {
    const failing = await startReceiver((res) => res.writeHead(503).end("overloaded"));
    const silent = await startReceiver(() => {});
    receivers.push(failing, silent);
    const refusedPort = await startReceiver((res) => res.end()).then(async (r) => (await r.close(), r.url));
    for (const [url, timeoutMs] of [
      [failing.url, 10_000],
      [refusedPort, 10_000],
      [silent.url, 200],
    ] as const) {
      const exporter = createSpanExporter({ url: `${url}/v1/traces`, resource, scopeName: "@trellis/sidecar", timeoutMs });
      const result = await exportOnce(exporter, makeSpans());
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(result.error?.message).toBeTruthy();
      await exporter.shutdown();
    }
  });
});

describe("createLogExporter", () => {
  it("POSTs protobuf to /v1/logs that decodes to the records with their trace context", async () => {
    const receiver = await startReceiver((res) => res.writeHead(200).end());
    receivers.push(receiver);
    const memory = new InMemoryLogRecordExporter();
    const logger = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] }).getLogger("@trellis/sidecar/access-log");
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED });
    logger.emit({ body: '"GET /cart HTTP/1.1" 200', attributes: { response_code: 200 }, context });
    const exporter = createLogExporter({ url: `${receiver.url}/v1/logs`, resource, scopeName: "@trellis/sidecar/access-log" });
    expect(await exportOnce(exporter, memory.getFinishedLogRecords())).toEqual({ code: ExportResultCode.SUCCESS });
    await exporter.shutdown();
    const decoded = decodeLogsRequest(receiver.bodies[0]?.body ?? new Uint8Array(), "protobuf");
    expect(decoded.logs).toEqual([
      expect.objectContaining({
        serviceName: "checkout",
        scopeName: "@trellis/sidecar/access-log",
        body: '"GET /cart HTTP/1.1" 200',
        attributes: { response_code: 200 },
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7",
      }),
    ]);
  });
});
