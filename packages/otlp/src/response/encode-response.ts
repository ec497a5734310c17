// The bodies an OTLP receiver answers with: Export{Trace,Metrics,Logs}ServiceResponse on success (with
// partial_success when something was rejected) and google.rpc.Status on failure, in protobuf or OTLP/JSON.
// Written with the package's own protobuf writer: these are two-field messages, not worth a schema.
import { ProtobufWriter, VARINT } from "../encode/protobuf-writer.ts";
import type { OtlpFormat } from "../trace/decode-trace-request.ts";

export type OtlpSignal = "traces" | "metrics" | "logs";

/** What was refused in an accepted request: the count, and a message saying what was wrong and where. */
export type ExportPartialSuccess = { rejected: number; errorMessage: string };

/** Export*PartialSuccess field 1 is named after what the signal carries. */
const REJECTED_FIELD: Record<OtlpSignal, string> = { traces: "rejectedSpans", metrics: "rejectedDataPoints", logs: "rejectedLogRecords" };

const utf8 = new TextEncoder();

/**
 * An Export{Trace,Metrics,Logs}ServiceResponse. Without `partial` (or with nothing rejected and no message) it
 * is the empty message — everything accepted — as the OTLP spec asks.
 */
export function encodeExportResponse(signal: OtlpSignal, format: OtlpFormat, partial?: ExportPartialSuccess): Uint8Array {
  const hasPartial = partial !== undefined && (partial.rejected > 0 || partial.errorMessage !== "");
  if (format === "json") {
    // int64 is a decimal string in proto3 JSON.
    const body = hasPartial ? { partialSuccess: { [REJECTED_FIELD[signal]]: String(partial.rejected), errorMessage: partial.errorMessage } } : {};
    return utf8.encode(JSON.stringify(body));
  }
  const w = new ProtobufWriter(256 + (partial?.errorMessage.length ?? 0) * 3);
  if (hasPartial) {
    const at = w.begin(1); // partial_success
    if (partial.rejected > 0) {
      w.tag(1, VARINT); // rejected_spans / rejected_data_points / rejected_log_records (int64)
      w.int64(partial.rejected);
    }
    if (partial.errorMessage !== "") w.string(2, partial.errorMessage);
    w.end(at);
  }
  return Uint8Array.from(w.finish());
}

/** google.rpc.Status{code=1, message=2}; `code` is a google.rpc.Code (3 INVALID_ARGUMENT, 14 UNAVAILABLE, ...). */
export function encodeStatus(status: { code: number; message: string }): Uint8Array {
  const w = new ProtobufWriter(64 + status.message.length * 3);
  if (status.code !== 0) {
    w.tag(1, VARINT);
    w.int64(status.code);
  }
  if (status.message !== "") w.string(2, status.message);
  return Uint8Array.from(w.finish());
}
