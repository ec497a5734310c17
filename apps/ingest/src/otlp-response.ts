// What OTLP/HTTP clients expect back: the Export*ServiceResponse in the request's own format on success (with
// partial_success when items were rejected), and a google.rpc.Status (protobuf or JSON) when the export failed.
import { encodeExportResponse, encodeStatus, type ExportPartialSuccess, type OtlpFormat, type OtlpSignal } from "@trellis/otlp";

export type Reply = { status: number; contentType: string; body: string | Uint8Array; headers?: Record<string, string> };

const CONTENT_TYPES: Record<OtlpFormat, string> = { protobuf: "application/x-protobuf", json: "application/json" };

export function exportReply(signal: OtlpSignal, format: OtlpFormat, outcome: ExportPartialSuccess): Reply {
  return { status: 200, contentType: CONTENT_TYPES[format], body: encodeExportResponse(signal, format, outcome) };
}

/** `rpcCode` is a google.rpc.Code (3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, 16 UNAUTHENTICATED...). */
export function statusReply(format: OtlpFormat, httpStatus: number, rpcCode: number, message: string): Reply {
  const status = { code: rpcCode, message };
  return { status: httpStatus, contentType: CONTENT_TYPES[format], body: format === "protobuf" ? encodeStatus(status) : JSON.stringify(status) };
}

/** The format a request declares (parameters such as charset ignored), or undefined for anything else. */
export function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType === "application/x-protobuf") return "protobuf";
  if (mediaType === "application/json") return "json";
  return undefined;
}
