export { SpanKind, StatusCode, type AttributeValue, type Attributes, type SpanEvent, type SpanLink, type SpanRecord } from "./span-record.ts";
export { decodeTraceRequest, type OtlpFormat } from "./trace/decode-trace-request.ts";
export {
  encodeExportResponse,
  encodeStatus,
  type ExportPartialSuccess,
  type OtlpSignal,
} from "./response/encode-response.ts";
export type { DecodedTraces } from "./trace/to-span-records.ts";
export { decodeMetricsRequest } from "./metrics/decode-metrics-request.ts";
export type { DecodedMetrics, ExponentialBuckets, ExponentialBucketsRecord, MetricKind, MetricPointRecord, Temporality } from "./metrics/metric-record.ts";
export { decodeLogsRequest } from "./logs/decode-logs-request.ts";
export type { DecodedLogs, LogEntry } from "./logs/log-record.ts";
export * from "./encode/index.ts";
