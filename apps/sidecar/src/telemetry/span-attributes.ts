// The span's final attributes from the request's record, where OpenTelemetry's HTTP semantic conventions (or a
// trellis.* name) have a place for them; set once, when the record is complete. What the span already says is left
// out to keep every exported span small: the reporter (the span kind says it) and an empty flag list ("-").
import type { Span } from "@opentelemetry/api";
import { joinFlags } from "./labels.ts";
import type { RequestRecord } from "./records.ts";

export function setRecordAttributes(span: Span, r: RequestRecord): void {
  span.setAttribute("network.protocol.version", r.httpVersion === "HTTP/2" ? "2" : "1.1");
  span.setAttribute("http.request.body.size", r.requestBytes);
  span.setAttribute("http.response.body.size", r.responseBytes);
  if (r.flags.length > 0) span.setAttribute("trellis.response_flags", joinFlags(r.flags));
  span.setAttribute("trellis.attempts", r.attempts);
  if (r.userAgent !== null) span.setAttribute("user_agent.original", r.userAgent);
  if (r.requestId !== null) span.setAttribute("trellis.request_id", r.requestId);
  if (r.grpcStatus !== null) span.setAttribute("rpc.grpc.status_code", r.grpcStatus);
  if (r.upstreamCluster !== null) span.setAttribute("trellis.cluster", r.upstreamCluster);
  if (r.upstreamHost !== null) span.setAttribute("trellis.upstream_host", r.upstreamHost);
  if (r.routeName !== null) span.setAttribute("trellis.route_name", r.routeName);
  if (r.sourcePrincipal !== null) span.setAttribute("trellis.source_principal", r.sourcePrincipal);
  if (r.destinationPrincipal !== null) span.setAttribute("trellis.destination_principal", r.destinationPrincipal);
}
