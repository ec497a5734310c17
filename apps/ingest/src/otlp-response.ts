// What OTLP/HTTP clients expect back: the export response in the request's own format on success, and a
// google.rpc.Status (protobuf or JSON) with a status code exporters know how to act on when it fails.
import { encodeStatus, encodeTraceResponse, type OtlpFormat, type PartialSuccess } from "@trellis/otlp";
import type { AppErrorCode } from "@trellis/runtime";

export type Reply = { status: number; contentType: string; body: string | Uint8Array; headers?: Record<string, string> };

const CONTENT_TYPES: Record<OtlpFormat, string> = { protobuf: "application/x-protobuf", json: "application/json" };

/** google.rpc.Code for each error code (what gRPC clients and OTLP libraries log). */
const RPC_CODES: Record<AppErrorCode, number> = {
  BAD_REQUEST: 3, // INVALID_ARGUMENT
  UNSUPPORTED_MEDIA_TYPE: 3,
  PAYLOAD_TOO_LARGE: 8, // RESOURCE_EXHAUSTED
  NOT_FOUND: 5,
  CONFLICT: 6, // ALREADY_EXISTS
  UNAVAILABLE: 14,
  CONFIG: 13, // INTERNAL
  INTERNAL: 13,
};

/** The format a request declares (parameters such as charset ignored), or undefined for anything else. */
export function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
  if (mediaType === "application/x-protobuf") return "protobuf";
  if (mediaType === "application/json") return "json";
  return undefined;
}

/** 200 with an Export*ServiceResponse; `partialSuccess` only when something was rejected. */
export function exportReply(format: OtlpFormat, partialSuccess?: PartialSuccess): Reply {
  const body = format === "protobuf" ? encodeTraceResponse(partialSuccess) : JSON.stringify(partialSuccess ? { partialSuccess } : {});
  return { status: 200, contentType: CONTENT_TYPES[format], body };
}

export function statusReply(format: OtlpFormat, httpStatus: number, code: AppErrorCode, message: string): Reply {
  const status = { code: RPC_CODES[code], message };
  return { status: httpStatus, contentType: CONTENT_TYPES[format], body: format === "protobuf" ? encodeStatus(status) : JSON.stringify(status) };
}
