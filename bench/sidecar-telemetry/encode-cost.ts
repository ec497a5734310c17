// Per-record CPU and bytes of OTLP protobuf encoding for the sidecar's spans and access-log records: the official
// serializers (@opentelemetry/otlp-transformer, as the OTLP proto exporters use them) against @trellis/otlp's
// hand-written encoders, on the same SDK-made records with the sidecar's attributes, in batches of 256 and 512.
// Run: npx tsx bench/sidecar-telemetry/encode-cost.ts
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from "@opentelemetry/api";
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { encodeLogsExport, encodeResource, encodeScope, encodeTraceExport } from "@trellis/otlp/encode";
import { buildRequestAttributes, formatRequestLine, severityOf } from "../../apps/sidecar/src/telemetry/access-log.ts";
import { setRecordAttributes } from "../../apps/sidecar/src/telemetry/span-attributes.ts";
import { makeBenchRecord } from "./bench-record.ts";

const record = makeBenchRecord;

const resource = defaultResource().merge(
  resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "v1", "service.instance.id": "checkout-v1" }),
);

/** Client spans as the sidecar makes them (start attributes, then the record's), from the real SDK. */
function makeSpans(count: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer("@trellis/sidecar");
  for (let i = 0; i < count; i += 1) {
    const r = record(i);
    const span = tracer.startSpan("GET", { kind: SpanKind.CLIENT, attributes: { "http.request.method": "GET", "url.path": r.path, "server.address": "cart", "trellis.upstream_service": "cart" } }, ROOT_CONTEXT);
    span.setAttribute("http.response.status_code", r.status ?? 0);
    setRecordAttributes(span, r);
    span.end();
  }
  return exporter.getFinishedSpans();
}

/** Access-log records as the sidecar emits them, carrying the request span's trace context. */
function makeLogs(count: number): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger("@trellis/sidecar/access-log");
  const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: TraceFlags.SAMPLED });
  for (let i = 0; i < count; i += 1) {
    const r = record(i);
    logger.emit({ timestamp: r.startTimeMs, ...severityOf(r.status), body: formatRequestLine(r), attributes: buildRequestAttributes(r), context });
  }
  return memory.getFinishedLogRecords();
}

function measure(name: string, batch: number, rounds: number, encode: () => Uint8Array | undefined): { us: number; bytes: number } {
  let bytes = 0;
  for (let i = 0; i < 50; i += 1) bytes = encode()?.length ?? 0; // warm up
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i += 1) encode();
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / (rounds * batch);
  console.log(`${name.padEnd(44)} ${us.toFixed(2).padStart(6)} µs CPU / record   ${(bytes / batch).toFixed(0).padStart(4)} bytes / record`);
  return { us, bytes: bytes / batch };
}

const resourceField = encodeResource(resource.attributes);
const scopeField = encodeScope("@trellis/sidecar");
const logScopeField = encodeScope("@trellis/sidecar/access-log");
for (const batch of [256, 512]) {
  const spans = makeSpans(batch);
  const logs = makeLogs(batch);
  const rounds = Math.round(400_000 / batch / 10);
  console.log(`batch of ${batch}:`);
  measure("  spans, official ProtobufTraceSerializer", batch, rounds, () => ProtobufTraceSerializer.serializeRequest(spans));
  measure("  spans, @trellis/otlp encodeTraceExport", batch, rounds, () => encodeTraceExport(resourceField, scopeField, spans));
  measure("  logs, official ProtobufLogsSerializer", batch, rounds, () => ProtobufLogsSerializer.serializeRequest(logs));
  measure("  logs, @trellis/otlp encodeLogsExport", batch, rounds, () => encodeLogsExport(resourceField, logScopeField, logs));
}
