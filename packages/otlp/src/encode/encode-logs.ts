// LogRecord messages written straight to protobuf, two ways: from the SDK's ReadableLogRecord-like records into a
// whole ExportLogsServiceRequest (encodeLogsExport: same content as otlp-transformer's ProtobufLogsSerializer, the
// tests decode both), and from a sender's own record, appended to a RecordBatch as it is made (beginLogRecord /
// finishLogRecord, attributes written in between through the batch): the sidecar's access log, one per request.
import { writeAnyValue, writeKeyValues, type EncodableAttributes, type EncodableValue, type EncodedResource, type EncodedScope } from "./encode-common.ts";
import type { EncodableHrTime, EncodableSpanContext } from "./encode-trace.ts";
import { FIXED32, FIXED64, ProtobufWriter, VARINT } from "./protobuf-writer.ts";
import { RecordBatch, type BatchFraming } from "./record-batch.ts";

/** The fields of the SDK's ReadableLogRecord that OTLP carries. */
export type EncodableLogRecord = {
  readonly hrTime: EncodableHrTime;
  readonly hrTimeObserved: EncodableHrTime;
  readonly spanContext?: EncodableSpanContext | undefined;
  readonly severityNumber?: number | undefined;
  readonly severityText?: string | undefined;
  readonly body?: EncodableValue;
  readonly eventName?: string | undefined;
  readonly attributes: EncodableAttributes;
  readonly droppedAttributesCount: number;
};

/** LogRecord.attributes: where a logs batch's `string` / `number` write. */
const LOG_ATTRIBUTES = 6;
// AnyValue.string_value, for a string body.
const STRING_VALUE = 1;

/** One ExportLogsServiceRequest: one ResourceLogs with one ScopeLogs holding `records`. Returns a fresh buffer. */
export function encodeLogsExport(resource: EncodedResource, scope: EncodedScope, records: readonly EncodableLogRecord[]): Uint8Array {
  const batch = startLogsBatch({ resource, scope }, 64 + records.length * 900);
  for (const record of records) writeSdkLogRecord(batch.w, record);
  batch.count = records.length;
  return batch.seal();
}

/** An empty ExportLogsServiceRequest for `framing`'s resource and scope, to append log records to. */
export function startLogsBatch(framing: BatchFraming, expectedBytes: number, reuse?: Buffer): RecordBatch {
  return new RecordBatch(framing, LOG_ATTRIBUTES, expectedBytes, reuse);
}

/**
 * Starts a LogRecord in `batch`: its time (epoch ms), severity and a string body; write its attributes through the
 * batch (the AttributeSink), then close it with finishLogRecord(batch, returned position, …).
 */
export function beginLogRecord(batch: RecordBatch, timeMs: number, severityNumber: number, severityText: string, body: string): number {
  const w = batch.w;
  const at = w.begin(2);
  w.tag(1, FIXED64);
  w.epochMillis(timeMs);
  writeSeverity(w, severityNumber, severityText);
  const value = w.begin(5);
  w.string(STRING_VALUE, body);
  w.end(value);
  return at;
}

/** The trace context (`traceId` null for none), the observed time, and the LogRecord ends. */
export function finishLogRecord(batch: RecordBatch, at: number, traceId: string | null, spanId: string, traceFlags: number, observedTimeMs: number): void {
  const w = batch.w;
  if (traceId !== null) writeTraceContext(w, traceFlags, traceId, spanId);
  w.tag(11, FIXED64);
  w.epochMillis(observedTimeMs);
  w.end(at);
  batch.count += 1;
}

function writeSdkLogRecord(w: ProtobufWriter, record: EncodableLogRecord): void {
  const at = w.begin(2);
  w.tag(1, FIXED64);
  w.hrTime(record.hrTime[0], record.hrTime[1]);
  writeSeverity(w, record.severityNumber ?? 0, record.severityText);
  if (record.body !== undefined) writeAnyValue(w, 5, record.body);
  writeKeyValues(w, LOG_ATTRIBUTES, record.attributes);
  if (record.droppedAttributesCount > 0) {
    w.tag(7, VARINT);
    w.uint32(record.droppedAttributesCount);
  }
  const context = record.spanContext;
  if (context !== undefined) writeTraceContext(w, context.traceFlags, context.traceId, context.spanId);
  w.tag(11, FIXED64);
  w.hrTime(record.hrTimeObserved[0], record.hrTimeObserved[1]);
  if (record.eventName) w.string(12, record.eventName);
  w.end(at);
}

function writeSeverity(w: ProtobufWriter, severityNumber: number, severityText: string | undefined): void {
  if (severityNumber !== 0) {
    w.tag(2, VARINT);
    w.int64(severityNumber);
  }
  if (severityText) w.string(3, severityText);
}

function writeTraceContext(w: ProtobufWriter, traceFlags: number, traceId: string, spanId: string): void {
  w.tag(8, FIXED32);
  w.fixed32(traceFlags);
  w.hex(9, traceId);
  w.hex(10, spanId);
}
