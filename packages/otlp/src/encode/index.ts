// The OTLP encoders alone (`@trellis/otlp/encode`): no protobufjs and no decoders, so a sender such as the sidecar
// loads only these few modules.
export { encodeResource, encodeScope, type EncodableAttributes, type EncodableValue, type EncodedResource, type EncodedScope } from "./encode-common.ts";
export { encodeTraceExport, type EncodableHrTime, type EncodableSpan, type EncodableSpanContext } from "./encode-trace.ts";
export { encodeLogsExport, type EncodableLogRecord } from "./encode-logs.ts";
