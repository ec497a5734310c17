// ExportLogsServiceRequest written straight to protobuf from the SDK's ReadableLogRecord-like records, with the
// Resource and InstrumentationScope bytes made once. Same content as otlp-transformer's ProtobufLogsSerializer
// (the tests decode both); used for the sidecar's access log, one record per request.
import { writeAnyValue, writeKeyValues, type EncodableAttributes, type EncodableValue, type EncodedResource, type EncodedScope } from "./encode-common.ts";
import type { EncodableHrTime, EncodableSpanContext } from "./encode-trace.ts";
import { FIXED32, FIXED64, ProtobufWriter, VARINT } from "./protobuf-writer.ts";

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

/** One ExportLogsServiceRequest: one ResourceLogs with one ScopeLogs holding `records`. Returns a fresh buffer. */
export function encodeLogsExport(resource: EncodedResource, scope: EncodedScope, records: readonly EncodableLogRecord[]): Uint8Array {
  const w = new ProtobufWriter(resource.field.length + scope.field.length + 64 + records.length * 900);
  const resourceLogs = w.begin(1);
  w.raw(resource.field);
  const scopeLogs = w.begin(2);
  w.raw(scope.field);
  for (const record of records) writeLogRecord(w, record);
  w.end(scopeLogs);
  w.end(resourceLogs);
  return w.finish();
}

function writeLogRecord(w: ProtobufWriter, record: EncodableLogRecord): void {
  const at = w.begin(2);
  w.tag(1, FIXED64);
  w.hrTime(record.hrTime[0], record.hrTime[1]);
  const severity = record.severityNumber ?? 0;
  if (severity !== 0) {
    w.tag(2, VARINT);
    w.int64(severity);
  }
  if (record.severityText) w.string(3, record.severityText);
  if (record.body !== undefined) writeAnyValue(w, 5, record.body);
  writeKeyValues(w, 6, record.attributes);
  if (record.droppedAttributesCount > 0) {
    w.tag(7, VARINT);
    w.uint32(record.droppedAttributesCount);
  }
  const context = record.spanContext;
  if (context !== undefined) {
    w.tag(8, FIXED32);
    w.fixed32(context.traceFlags);
    w.hex(9, context.traceId);
    w.hex(10, context.spanId);
  }
  w.tag(11, FIXED64);
  w.hrTime(record.hrTimeObserved[0], record.hrTimeObserved[1]);
  if (record.eventName) w.string(12, record.eventName);
  w.end(at);
}
