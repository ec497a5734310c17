// Small readings of an incoming request that spans need, shared by inbound and outbound.
import type { Http1Request } from "../http1/types.ts";

/** The path without the query string (the query can carry personal data and has unbounded cardinality). */
export function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return query === -1 ? raw : raw.slice(0, query);
}

/** The host the caller addressed (Host header without port), falling back to the local address. */
export function hostOf(req: Pick<Http1Request, "headers" | "socket">): string {
  const host = req.headers.host ?? req.socket.localAddress ?? "";
  return host.replace(/:\d+$/, "");
}
