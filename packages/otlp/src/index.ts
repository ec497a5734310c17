export { SpanKind, StatusCode, type AttributeValue, type Attributes, type SpanEvent, type SpanRecord } from "./span-record.ts";
export { decodeTraceRequest, type OtlpFormat } from "./trace/decode-trace-request.ts";
export { encodeStatus, encodeTraceResponse, type PartialSuccess } from "./trace/encode-response.ts";
export type { DecodedTraces } from "./trace/to-span-records.ts";
export { decodeMetricsRequest } from "./metrics/decode-metrics-request.ts";
export type { DecodedMetrics, MetricKind, MetricPointRecord, Temporality } from "./metrics/metric-record.ts";
export { decodeLogsRequest } from "./logs/decode-logs-request.ts";
export type { DecodedLogs, LogEntry } from "./logs/log-record.ts";
export * from "./encode/index.ts";
