// The one mesh-related duty of an app, as Istio asks of every app (Bookinfo does the same): copy the incoming
// trace context onto outgoing calls, so the sidecars can join the spans of one request into one trace.
import type { IncomingHttpHeaders } from "node:http";

export const traceHeaderNames = [
  "traceparent",
  "tracestate",
  "x-request-id",
  "b3",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
] as const;

export function pickTraceHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of traceHeaderNames) {
    const value = headers[name];
    if (typeof value === "string") out[name] = value;
    else if (Array.isArray(value) && value.length > 0) out[name] = value.join(",");
  }
  return out;
}
