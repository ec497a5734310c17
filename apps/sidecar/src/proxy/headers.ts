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

/** Trace headers are re-injected from the hop's own span, so the incoming ones are dropped too on the way up. */
const HOP_BY_HOP_AND_TRACE = new Set([...HOP_BY_HOP, "traceparent", "tracestate"]);

export function removeHopByHop(headers: IncomingHttpHeaders, drop: ReadonlySet<string> = HOP_BY_HOP): OutgoingHttpHeaders {
  const named = headers.connection === undefined ? null : namedByConnection(headers.connection);
  const result: OutgoingHttpHeaders = {};
  // for...in over Node's plain header object: no entries array per request on this hot path.
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined || drop.has(key) || (named !== null && named.includes(key))) continue;
    result[key] = value;
  }
  return result;
}

/** Extra headers a Connection header names as hop-by-hop; null for the usual bare keep-alive / close. */
function namedByConnection(connection: string): string[] | null {
  const usual = connection.toLowerCase();
  if (usual === "keep-alive" || usual === "close") return null;
  const tokens: string[] = [];
  for (const token of usual.split(",")) {
    const name = token.trim();
    if (name !== "") tokens.push(name);
  }
  return tokens;
}

export type UpstreamHeaderOptions = {
  /** The address of the peer that sent us the request. */
  remoteAddress: string | undefined;
  generateRequestId?: () => string;
  /** More headers that stay behind, e.g. mesh-internal ones on inbound (never copied, rather than deleted after). */
  alsoDrop?: ReadonlySet<string>;
};

/** The headers toUpstreamHeaders drops, plus `names`: for callers that drop more on every request. */
export function upstreamDropSet(names: readonly string[]): ReadonlySet<string> {
  return new Set([...HOP_BY_HOP_AND_TRACE, ...names]);
}

/** Headers for the request we send on: hop-by-hop and trace headers removed, forwarding headers set. */
export function toUpstreamHeaders(incoming: IncomingHttpHeaders, { remoteAddress, generateRequestId = randomUUID, alsoDrop }: UpstreamHeaderOptions): OutgoingHttpHeaders {
  // A delete would turn the object into a slow dictionary for every later read and the serializer's for...in.
  const headers = removeHopByHop(incoming, alsoDrop ?? HOP_BY_HOP_AND_TRACE);
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
