// The entry point for OTLP logs bodies: pick the reader for the wire format, then validate records.
import type { OtlpFormat } from "../trace/decode-trace-request.ts";
import { readJsonLogs } from "./from-json.ts";
import { readProtobufLogs } from "./read-protobuf-logs.ts";
import type { DecodedLogs } from "./log-record.ts";
import { toLogEntries } from "./to-log-entries.ts";

/**
 * Decodes an ExportLogsServiceRequest. Records with invalid ids or no time are counted in `rejectedLogRecords`
 * (with a message in `errors`); a body that cannot be decoded at all throws AppError("BAD_REQUEST").
 */
export function decodeLogsRequest(body: Uint8Array, format: OtlpFormat): DecodedLogs {
  return toLogEntries(format === "protobuf" ? readProtobufLogs(body) : readJsonLogs(body));
}
