export { SpanKind, StatusCode, type AttributeValue, type Attributes, type SpanEvent, type SpanRecord } from "./span-record.ts";
export { decodeTraceRequest, type OtlpFormat } from "./trace/decode-trace-request.ts";
export { encodeStatus, encodeTraceResponse, type PartialSuccess } from "./trace/encode-response.ts";
export type { DecodedTraces } from "./trace/to-span-records.ts";
