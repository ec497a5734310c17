// Protobuf bodies of the answers an OTLP/HTTP receiver sends: ExportTraceServiceResponse on success and
// google.rpc.Status on failure (JSON answers are plain objects, built by the receiver).
import { encodeExportTraceServiceResponse, encodeRpcStatus } from "../proto/schema.ts";

export type PartialSuccess = { rejectedSpans: number; errorMessage: string };

/** An empty response when everything was accepted; `partialSuccess` only when spans were rejected. */
export function encodeTraceResponse(partialSuccess?: PartialSuccess): Uint8Array {
  return encodeExportTraceServiceResponse(partialSuccess);
}

/** `code` is a google.rpc.Code (3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE, ...). */
export function encodeStatus(status: { code: number; message: string }): Uint8Array {
  return encodeRpcStatus(status);
}
