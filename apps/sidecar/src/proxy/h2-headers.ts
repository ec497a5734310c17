// Header hygiene for one HTTP/2 hop. Connection-specific headers are forbidden in HTTP/2 (RFC 9113 §8.2.2), except
// `te: trailers`, which gRPC needs end to end; pseudo-headers (:method, :path, :authority, :status) pass through.
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { RESPONSE_FLAGS_HEADER, type LocalReply } from "../response-flags.ts";

const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "http2-settings"]);

/** Request headers for the next hop: connection-specific and trace headers dropped, forwarding headers set. */
export function toUpstreamH2Headers(incoming: IncomingHttpHeaders, remoteAddress: string | undefined, generateRequestId: () => string = randomUUID): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const key in incoming) {
    const value = incoming[key];
    if (value === undefined || CONNECTION_SPECIFIC.has(key) || key === "traceparent" || key === "tracestate") continue;
    if (key === "te" && value !== "trailers") continue;
    headers[key] = value;
  }
  if (remoteAddress !== undefined) {
    const previous = incoming["x-forwarded-for"];
    headers["x-forwarded-for"] = previous ? `${String(previous)}, ${remoteAddress}` : remoteAddress;
  }
  if (!incoming["x-request-id"]) headers["x-request-id"] = generateRequestId();
  return headers;
}

/** Response headers (or trailers) for the hop back: connection-specific ones dropped, :status kept. */
export function toDownstreamH2Headers(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const key in incoming) {
    const value = incoming[key];
    if (value === undefined || CONNECTION_SPECIFIC.has(key)) continue;
    headers[key] = value;
  }
  return headers;
}

export function isGrpc(headers: IncomingHttpHeaders): boolean {
  const type = headers["content-type"];
  return type !== undefined && type.startsWith("application/grpc");
}

/** HTTP status → gRPC status for local replies, as Envoy maps them (Grpc::Utility::httpToGrpcStatus). */
export function grpcStatusForHttp(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** gRPC status → the HTTP status Envoy counts it as (Grpc::Utility::grpcToHttpStatus), e.g. for outlier detection. */
export function grpcToHttpStatus(grpcStatus: number): number {
  return GRPC_TO_HTTP[grpcStatus] ?? 500;
}

/** Indexed by grpc-status: OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, … UNAUTHENTICATED. */
const GRPC_TO_HTTP: readonly number[] = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/**
 * Headers of a local reply: for gRPC callers a trailers-only response (HTTP 200, grpc-status and grpc-message), as
 * gRPC clients only read errors from there; for others the plain status with the flag header. The body is only
 * sent for non-gRPC replies. `flags` is the flags header's value when earlier flags came first (e.g. UF,URX).
 */
export function localReplyH2Headers(reply: LocalReply, grpc: boolean, flags: string = reply.flag): OutgoingHttpHeaders {
  if (grpc) {
    return {
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": String(grpcStatusForHttp(reply.status)),
      "grpc-message": encodeURIComponent(reply.body.trimEnd()),
      [RESPONSE_FLAGS_HEADER]: flags,
    };
  }
  return { ":status": reply.status, "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(reply.body), [RESPONSE_FLAGS_HEADER]: flags };
}
