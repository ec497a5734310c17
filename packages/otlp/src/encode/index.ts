// The OTLP encoders alone (`@trellis/otlp/encode`): no protobufjs and no decoders, so a sender such as the sidecar
// loads only these few modules.
export {
  AttributeRecord,
  attributeKey,
  encodeResource,
  encodeScope,
  type AttributeKey,
  type AttributeSink,
  type EncodableAttributes,
  type EncodableValue,
  type EncodedResource,
  type EncodedScope,
} from "./encode-common.ts";
export { RecordBatch, type BatchFraming } from "./record-batch.ts";
export { beginSpan, encodeTraceExport, finishSpan, OTLP_SPAN_KIND, startTraceBatch, type EncodableHrTime, type EncodableSpan, type EncodableSpanContext, type SpanHead } from "./encode-trace.ts";
export { beginLogRecord, encodeLogsExport, finishLogRecord, startLogsBatch, type EncodableLogRecord } from "./encode-logs.ts";
export { encodeMetricsExport, type EncodableHistogram, type EncodableMetric, type EncodableSum, type HistogramPoint, type SumPoint } from "./encode-metrics.ts";
