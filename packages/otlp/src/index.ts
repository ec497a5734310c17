export { SpanKind, StatusCode, type AttributeValue, type Attributes, type SpanEvent, type SpanRecord } from "./span-record.ts";
