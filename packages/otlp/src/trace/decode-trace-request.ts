// The entry point for OTLP trace bodies: pick the reader for the wire format, then validate and map spans.
import { readJsonTraces } from "./from-json.ts";
import { readProtobufTraces } from "./read-protobuf-traces.ts";
import { toSpanRecords, type DecodedTraces } from "./to-span-records.ts";

export type OtlpFormat = "protobuf" | "json";

/**
 * Decodes an ExportTraceServiceRequest. Spans with invalid ids are counted in `rejectedSpans` (with a message
 * in `errors`) and left out; a body that cannot be decoded at all throws AppError("BAD_REQUEST").
 */
export function decodeTraceRequest(body: Uint8Array, format: OtlpFormat): DecodedTraces {
  const resources = format === "protobuf" ? readProtobufTraces(body) : readJsonTraces(body);
  return toSpanRecords(resources);
}
