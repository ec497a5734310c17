// Header hygiene for one proxy hop: hop-by-hop headers belong to a single connection and must not be forwarded
// (RFC 9110 §7.6.1); x-forwarded-for records the hop; x-request-id ties the access logs of one request together.
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Trace headers are re-injected from the hop's own span, so the incoming ones are dropped here. */
const TRACE_HEADERS = new Set(["traceparent", "tracestate"]);

export function removeHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== ""),
  );
  const result: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key)) continue;
    result[key] = value;
  }
  return result;
}

export type UpstreamHeaderOptions = {
  /** The address of the peer that sent us the request. */
  remoteAddress: string | undefined;
  generateRequestId?: () => string;
};

/** Headers for the request we send on: hop-by-hop and trace headers removed, forwarding headers set. */
export function toUpstreamHeaders(incoming: IncomingHttpHeaders, { remoteAddress, generateRequestId = randomUUID }: UpstreamHeaderOptions): OutgoingHttpHeaders {
  const headers = removeHopByHop(incoming);
  for (const name of TRACE_HEADERS) delete headers[name];
  if (remoteAddress !== undefined) {
    const previous = incoming["x-forwarded-for"];
    headers["x-forwarded-for"] = previous ? `${previous}, ${remoteAddress}` : remoteAddress;
  }
  if (!incoming["x-request-id"]) headers["x-request-id"] = generateRequestId();
  // Node decodes a chunked body; with no content-length it must be re-chunked, which this header asks for.
  if (incoming["transfer-encoding"] !== undefined && incoming["content-length"] === undefined) headers["transfer-encoding"] = "chunked";
  return headers;
}

/** Headers for the response we send back: only hop-by-hop ones are removed (Node re-frames the body). */
export function toDownstreamHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  return removeHopByHop(incoming);
}
