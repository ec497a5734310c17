// Envoy-style response flags: a short code saying why the proxy, not the app, shaped a response. They travel in
// the x-trellis-response-flags header and on spans, so a 503 can be told apart from an app's own 503.

export const RESPONSE_FLAGS_HEADER = "x-trellis-response-flags";

export type ResponseFlag =
  /** No route: no config yet, the upstream is not in it, or none of its routes matches the request. */
  | "NR"
  /** No healthy upstream: the cluster has no endpoints. */
  | "UH"
  /** Upstream connection failure: could not connect. */
  | "UF"
  /** Upstream connection termination: the connection dropped after it was made, before or during the response. */
  | "UC"
  /** Upstream request timeout: the route's timeout passed before the response was complete. */
  | "UT"
  /** Fault injection abort: the route's fault policy answered instead of the upstream. */
  | "FI"
  /** Fault injection delay: the route's fault policy held the request before sending it on. */
  | "DI"
  /** Downstream connection termination: the caller went away before the response was complete. */
  | "DC"
  /** Upstream overflow: a circuit breaker (connection-pool limit) answered at once instead of queueing. */
  | "UO"
  /**
   * Upstream retry limit exceeded: the caller got the last attempt's failure because retries ran out, or the retry
   * budget / max-retries breaker refused one more (as Envoy flags both).
   */
  | "URX"
  /** Denied by an AuthorizationPolicy on inbound (403). */
  | "RBAC"
  /** Downstream protocol error: malformed HTTP from the caller (400/431, connection closed). */
  | "DPE"
  /** Upstream protocol error: the upstream's response could not be parsed. */
  | "UPE";

export type LocalReply = { status: number; flag: ResponseFlag; body: string };

export function localReply(flag: "NR" | "UH" | "UF" | "UC" | "UT", detail: string): LocalReply {
  switch (flag) {
    case "NR":
      return { status: 404, flag, body: `no route: ${detail}\n` };
    case "UH":
      return { status: 503, flag, body: `no healthy upstream: ${detail}\n` };
    case "UF":
      return { status: 503, flag, body: `upstream connect error: ${detail}\n` };
    case "UC":
      return { status: 503, flag, body: `upstream connection terminated before the response: ${detail}\n` };
    case "UT":
      return { status: 504, flag, body: `upstream request timeout: ${detail}\n` };
  }
}

/** The answer a fault-injection abort gives in place of the upstream's. */
export function faultAbortReply(status: number, route: string): LocalReply {
  return { status, flag: "FI", body: `fault filter abort (${route})\n` };
}

/** Which flag an upstream request error earns, from whether its connection was ever established. */
export function flagForUpstreamError({ connected }: { connected: boolean }): "UF" | "UC" {
  return connected ? "UC" : "UF";
}

/** Whether the span of a response should be marked as an error (OTel HTTP semconv: 5xx, or no response at all). */
export function isErrorStatus(status: number | null): boolean {
  return status === null || status >= 500;
}
