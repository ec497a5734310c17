// Per-record CPU and bytes of OTLP protobuf encoding for the sidecar's spans and access-log records: the official
// serializers (@opentelemetry/otlp-transformer, as the OTLP proto exporters use them) and @trellis/otlp's
// encodeTraceExport / encodeLogsExport on the same SDK-made records, in batches of 256 and 512, and the sidecar's
// direct encoding (its own span object / the RequestRecord appended to a batch, then sealed) of the same requests.
// Run: npx tsx bench/sidecar-telemetry/encode-cost.ts
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { encodeLogsExport, encodeResource, encodeScope, encodeTraceExport, startLogsBatch, startTraceBatch } from "@trellis/otlp/encode";
import { writeRequestLog } from "../../apps/sidecar/src/telemetry/log-export.ts";
import type { RequestRecord } from "../../apps/sidecar/src/telemetry/records.ts";
import { HttpSpan, writeSpan } from "../../apps/sidecar/src/telemetry/traces.ts";
import { makeBenchRecord } from "./bench-record.ts";
import { BENCH_SPAN_CONTEXT, emitSdkLog, LOGGER_NAME, recordSdkSpan, resource, TRACER_NAME } from "./sdk-path.ts";

/** Client spans as the SDK path made them (start attributes, then the record's). */
function makeSdkSpans(count: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer(TRACER_NAME);
  for (let i = 0; i < count; i += 1) recordSdkSpan(tracer, makeBenchRecord(i));
  return exporter.getFinishedSpans();
}

/** Access-log records as the SDK path emitted them, carrying the request span's trace context. */
function makeSdkLogs(count: number): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger(LOGGER_NAME);
  for (let i = 0; i < count; i += 1) emitSdkLog(logger, makeBenchRecord(i));
  return memory.getFinishedLogRecords();
}

/** The same client spans as the sidecar now holds them: ended, with the request's record. */
function makeOwnSpans(count: number): HttpSpan[] {
  return Array.from({ length: count }, (_, i) => {
    const r = makeBenchRecord(i);
    const span = new HttpSpan({ kind: "client", method: "GET", path: r.path, serverAddress: "cart", upstreamService: "cart", parent: null }, 1);
    span.end({ status: r.status, flag: null, record: r });
    return span;
  });
}

function measure(name: string, batch: number, rounds: number, encode: () => Uint8Array | undefined): void {
  let bytes = 0;
  for (let i = 0; i < 50; i += 1) bytes = encode()?.length ?? 0; // warm up
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i += 1) encode();
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / (rounds * batch);
  console.log(`${name.padEnd(52)} ${us.toFixed(2).padStart(6)} µs CPU / record   ${(bytes / batch).toFixed(0).padStart(4)} bytes / record`);
}

const resourceField = encodeResource(resource.attributes);
const traceFraming = { resource: resourceField, scope: encodeScope(TRACER_NAME) };
const logFraming = { resource: resourceField, scope: encodeScope(LOGGER_NAME) };
for (const batch of [256, 512]) {
  const sdkSpans = makeSdkSpans(batch);
  const ownSpans = makeOwnSpans(batch);
  const sdkLogs = makeSdkLogs(batch);
  const records: RequestRecord[] = Array.from({ length: batch }, (_, i) => makeBenchRecord(i, BENCH_SPAN_CONTEXT));
  const rounds = Math.round(400_000 / batch / 10);
  console.log(`batch of ${batch}:`);
  measure("  spans, official ProtobufTraceSerializer", batch, rounds, () => ProtobufTraceSerializer.serializeRequest(sdkSpans));
  measure("  spans, @trellis/otlp encodeTraceExport (SDK spans)", batch, rounds, () => encodeTraceExport(traceFraming.resource, traceFraming.scope, sdkSpans));
  measure("  spans, direct: writeSpan into a batch, seal", batch, rounds, () => {
    const pending = startTraceBatch(traceFraming, batch * 700);
    for (const span of ownSpans) writeSpan(pending, span);
    return pending.seal();
  });
  measure("  logs, official ProtobufLogsSerializer", batch, rounds, () => ProtobufLogsSerializer.serializeRequest(sdkLogs));
  measure("  logs, @trellis/otlp encodeLogsExport (SDK records)", batch, rounds, () => encodeLogsExport(logFraming.resource, logFraming.scope, sdkLogs));
  // Includes what the SDK path did before encoding: the Istio line and the attributes, from the RequestRecord.
  measure("  logs, direct: writeRequestLog into a batch, seal", batch, rounds, () => {
    const pending = startLogsBatch(logFraming, batch * 1100);
    for (const r of records) writeRequestLog(pending, r);
    return pending.seal();
  });
}
