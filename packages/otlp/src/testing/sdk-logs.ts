// Test fixtures: log records made by the OpenTelemetry JS SDK, for checking decoding against the official serializers.
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from "@opentelemetry/sdk-logs";

export const TRACE_ID = "80f198ee56343ba864fe8b2a57d3eff7";
export const SPAN_ID = "e457b5a2e4d86bd1";

/** An access-log-like record with trace context, and a structured one with only a severity. */
export function makeSdkLogs(): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const resource = resourceFromAttributes({ "service.name": "cart", "service.namespace": "shop" });
  const logger = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] }).getLogger("access-log");
  const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  logger.emit({
    timestamp: 1767225600123,
    severityNumber: SeverityNumber.WARN,
    severityText: "WARN",
    body: '[2026-01-01T00:00:00.123Z] "GET /cart HTTP/1.1" 503 UF',
    attributes: { method: "GET", response_code: 503, response_flags: "UF", attempt_count: 2 },
    context,
  });
  logger.emit({ body: { structured: ["a", 1] }, severityNumber: SeverityNumber.INFO });
  return memory.getFinishedLogRecords();
}
