// The path the sidecar ran until its spans and access-log records left the OpenTelemetry SDK, kept so the scripts
// here can measure it against the current one in the same process: SDK spans carrying the attributes the old
// telemetry/index.ts and span-attributes.ts set, SDK log records as the old recordRequest emitted them, and batch
// processors behind exporters that encode with @trellis/otlp (encodeTraceExport / encodeLogsExport) and POST
// with the sidecar's poster.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from "@opentelemetry/api";
import type { Logger } from "@opentelemetry/api-logs";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type ReadableSpan, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace";
import { encodeLogsExport, encodeResource, encodeScope, encodeTraceExport } from "@trellis/otlp/encode";
import { isErrorStatus } from "../../apps/sidecar/src/response-flags.ts";
import { buildRequestAttributes, formatRequestLine, severityOf } from "../../apps/sidecar/src/telemetry/access-log.ts";
import { createOtlpPoster } from "../../apps/sidecar/src/telemetry/otlp-exporters.ts";
import type { RequestRecord } from "../../apps/sidecar/src/telemetry/records.ts";
import { setRecordAttributesAsBefore } from "../../apps/sidecar/src/telemetry/testing-sdk-spans.ts";

export const resource = defaultResource().merge(
  resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "v1", "service.instance.id": "checkout-v1" }),
);
export const TRACER_NAME = "@trellis/sidecar";
export const LOGGER_NAME = "@trellis/sidecar/access-log";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

/** Times export(): how long one export call holds the event loop (encode and request start). */
export type ExportTimer = { longestMs: number };

const done = (callback: (result: ExportResult) => void) => (error: Error | null) => callback({ code: error === null ? ExportResultCode.SUCCESS : ExportResultCode.FAILED });

export function createSdkSpanPath(url: string, timer: ExportTimer, batchSize = 256): { tracer: Tracer; shutdown: () => Promise<void> } {
  const poster = createOtlpPoster({ url });
  const resourceField = encodeResource(resource.attributes);
  const scope = encodeScope(TRACER_NAME);
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], callback) {
      const start = performance.now();
      poster.post(encodeTraceExport(resourceField, scope, spans), done(callback));
      timer.longestMs = Math.max(timer.longestMs, performance.now() - start);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => poster.shutdown(),
  };
  const processor: SpanProcessor = new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 8_192, maxExportBatchSize: batchSize });
  const provider = new TracerProvider({ resource, sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }), spanProcessors: [processor] });
  return { tracer: provider.getTracer(TRACER_NAME), shutdown: () => provider.shutdown() };
}

/** A client span as the old startHttpSpan / endHttpSpan made it, with the request record's attributes. */
export function recordSdkSpan(tracer: Tracer, r: RequestRecord): void {
  const span = tracer.startSpan("GET", { kind: SpanKind.CLIENT, attributes: { "http.request.method": "GET", "url.path": r.path, "server.address": "cart", "trellis.upstream_service": "cart" } }, ROOT_CONTEXT);
  if (span.isRecording()) {
    if (r.status !== null) span.setAttribute("http.response.status_code", r.status);
    setRecordAttributesAsBefore(span, r);
    if (isErrorStatus(r.status)) {
      span.setAttribute("error.type", r.status === null ? "no_response" : String(r.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}

export function createSdkLogPath(url: string, timer: ExportTimer, batchSize = 256): { logger: Logger; shutdown: () => Promise<void> } {
  const poster = createOtlpPoster({ url });
  const resourceField = encodeResource(resource.attributes);
  const scope = encodeScope(LOGGER_NAME);
  const exporter: LogRecordExporter = {
    export(records: ReadableLogRecord[], callback) {
      const start = performance.now();
      poster.post(encodeLogsExport(resourceField, scope, records), done(callback));
      timer.longestMs = Math.max(timer.longestMs, performance.now() - start);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => poster.shutdown(),
  };
  const processor: LogRecordProcessor = new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 8_192, maxExportBatchSize: batchSize });
  const provider = new LoggerProvider({ resource, processors: [processor] });
  return { logger: provider.getLogger(LOGGER_NAME), shutdown: () => provider.shutdown() };
}

/** An access-log record as the old recordRequest emitted it, linked to the request's span. */
export function emitSdkLog(logger: Logger, r: RequestRecord): void {
  logger.emit({
    timestamp: r.startTimeMs,
    ...severityOf(r.status),
    body: formatRequestLine(r),
    attributes: buildRequestAttributes(r),
    context: trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED }),
  });
}

/** The span context every bench log record carries, for the current path. */
export const BENCH_SPAN_CONTEXT = { traceId: TRACE_ID, spanId: SPAN_ID, sampled: true, traceState: undefined, remote: false };
