// Outbound, endpoint layer: what every attempt to a peer sidecar carries — the hop's headers (hop-by-hop and trace
// headers dropped, x-forwarded-for, an x-request-id when the app sent none) and this workload's peer metadata,
// which the peer's inbound strips and reads for its telemetry (Istio's metadata exchange). Connections, limits and
// TLS are the cluster pool's (pools.ts); the attempt itself is attempt.ts.
import type http from "node:http";
import type { Http1Request } from "../http1/types.ts";
import { toUpstreamHeaders } from "../proxy/headers.ts";
import { PEER_METADATA_HEADER } from "../transport/peer-metadata.ts";

/** The headers every attempt of this request starts from (each attempt adds its own traceparent). */
export function buildUpstreamHeaders(req: Http1Request, peerMetadata: string): http.OutgoingHttpHeaders {
  const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress });
  // Whatever the app sent under this name is replaced: only the sidecar vouches for who the source is.
  headers[PEER_METADATA_HEADER] = peerMetadata;
  return headers;
}
