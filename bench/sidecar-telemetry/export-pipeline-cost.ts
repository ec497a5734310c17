// CPU per span / access-log record through the whole export pipeline the sidecar runs (SDK span or log record →
// batch processor → exporter → POST), official OTLP proto exporters (batches of 512, as before) against the
// sidecar's exporters with @trellis/otlp's encoder (batches of 256), plus the longest synchronous export call: the
// time one export holds the event loop. The OTLP sink runs in a child process so its CPU is not counted.
// Run: npx tsx bench/sidecar-telemetry/export-pipeline-cost.ts
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from "@opentelemetry/sdk-logs";
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from "@opentelemetry/sdk-trace";
import { buildRequestAttributes, formatRequestLine, severityOf } from "../../apps/sidecar/src/telemetry/access-log.ts";
import { createLogExporter, createSpanExporter } from "../../apps/sidecar/src/telemetry/otlp-exporters.ts";
import type { RequestRecord } from "../../apps/sidecar/src/telemetry/records.ts";
import { setRecordAttributes } from "../../apps/sidecar/src/telemetry/span-attributes.ts";
import { makeBenchRecord } from "./bench-record.ts";

// The official proto exporters are installed under apps/sidecar (nested by npm), so they are loaded from there.
const requireFromSidecar = createRequire(new URL("../../apps/sidecar/package.json", import.meta.url));
const { OTLPTraceExporter } = requireFromSidecar("@opentelemetry/exporter-trace-otlp-proto") as { OTLPTraceExporter: new (config: { url: string }) => SpanExporter };
const { OTLPLogExporter } = requireFromSidecar("@opentelemetry/exporter-logs-otlp-proto") as { OTLPLogExporter: new (config: { url: string }) => LogRecordExporter };

const N = 20_480;
const resource = defaultResource().merge(resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "v1", "service.instance.id": "checkout-v1" }));

async function startSink(): Promise<{ url: string; stop: () => void }> {
  const code = `require("http").createServer((q, s) => { q.resume(); q.on("end", () => { s.writeHead(200, { "content-type": "application/x-protobuf" }); s.end(); }); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve) => child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

type Timed = { longestMs: number };

/** Wraps export() to time its synchronous part (encoding and starting the request). */
function timeExports<T extends SpanExporter | LogRecordExporter>(exporter: T, timed: Timed): T {
  const original = exporter.export.bind(exporter) as (items: never[], done: (r: ExportResult) => void) => void;
  (exporter as { export: unknown }).export = (items: never[], done: (r: ExportResult) => void) => {
    const start = performance.now();
    original(items, done);
    timed.longestMs = Math.max(timed.longestMs, performance.now() - start);
  };
  return exporter;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runSpans(exporter: SpanExporter, batchSize: number, count: number): Promise<{ us: number; longestMs: number }> {
  const timed = { longestMs: 0 };
  const batch = new BatchSpanProcessor({ exporter: timeExports(exporter, timed), scheduledDelayMillis: 1_000, maxQueueSize: 8_192, maxExportBatchSize: batchSize });
  const provider = new TracerProvider({ resource, spanProcessors: [batch] });
  const tracer = provider.getTracer("@trellis/sidecar");
  const start = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const r: RequestRecord = makeBenchRecord(i);
    const span = tracer.startSpan("GET", { kind: SpanKind.CLIENT, attributes: { "http.request.method": "GET", "url.path": r.path, "server.address": "cart", "trellis.upstream_service": "cart" } }, ROOT_CONTEXT);
    span.setAttribute("http.response.status_code", r.status ?? 0);
    setRecordAttributes(span, r);
    span.end();
    if (i % 64 === 63) await yieldToLoop();
  }
  await provider.forceFlush();
  const used = process.cpuUsage(start);
  await provider.shutdown();
  return { us: (used.user + used.system) / count, longestMs: timed.longestMs };
}

async function runLogs(exporter: LogRecordExporter, batchSize: number, count: number): Promise<{ us: number; longestMs: number }> {
  const timed = { longestMs: 0 };
  const batch = new BatchLogRecordProcessor({ exporter: timeExports(exporter, timed), scheduledDelayMillis: 1_000, maxQueueSize: 8_192, maxExportBatchSize: batchSize });
  const provider = new LoggerProvider({ resource, processors: [batch] });
  const logger = provider.getLogger("@trellis/sidecar/access-log");
  const start = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const r = makeBenchRecord(i);
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED });
    logger.emit({ timestamp: r.startTimeMs, ...severityOf(r.status), body: formatRequestLine(r), attributes: buildRequestAttributes(r), context });
    if (i % 64 === 63) await yieldToLoop();
  }
  await provider.forceFlush();
  const used = process.cpuUsage(start);
  await provider.shutdown();
  return { us: (used.user + used.system) / count, longestMs: timed.longestMs };
}

const sink = await startSink();
const traces = `${sink.url}/v1/traces`;
const logs = `${sink.url}/v1/logs`;
const report = (name: string, r: { us: number; longestMs: number }) =>
  console.log(`${name.padEnd(58)} ${r.us.toFixed(2).padStart(6)} µs CPU / record   longest export call ${r.longestMs.toFixed(2)} ms`);
// Warm-up of both paths, then two interleaved rounds each.
await runSpans(new OTLPTraceExporter({ url: traces }), 512, 4_096);
await runSpans(createSpanExporter({ url: traces, resource, scopeName: "@trellis/sidecar" }), 256, 4_096);
await runLogs(new OTLPLogExporter({ url: logs }), 512, 4_096);
await runLogs(createLogExporter({ url: logs, resource, scopeName: "@trellis/sidecar/access-log" }), 256, 4_096);
for (let round = 1; round <= 2; round += 1) {
  report(`spans, official OTLPTraceExporter, batches of 512 (r${round})`, await runSpans(new OTLPTraceExporter({ url: traces }), 512, N));
  report(`spans, sidecar exporter + @trellis/otlp, batches of 256 (r${round})`, await runSpans(createSpanExporter({ url: traces, resource, scopeName: "@trellis/sidecar" }), 256, N));
  report(`logs, official OTLPLogExporter, batches of 512 (r${round})`, await runLogs(new OTLPLogExporter({ url: logs }), 512, N));
  report(`logs, sidecar exporter + @trellis/otlp, batches of 256 (r${round})`, await runLogs(createLogExporter({ url: logs, resource, scopeName: "@trellis/sidecar/access-log" }), 256, N));
}
sink.stop();
process.exit(0);
