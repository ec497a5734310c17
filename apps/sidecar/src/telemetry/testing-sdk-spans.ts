// The span attributes a request's record gave through the OpenTelemetry SDK before the sidecar encoded spans
// itself (test-only): the reference the new encoding is compared with (traces.test.ts) and the old path's cost
// (bench/sidecar-telemetry/sdk-path.ts).
import type { Span } from "@opentelemetry/api";
import { joinFlags } from "./labels.ts";
import type { RequestRecord } from "./records.ts";

export function setRecordAttributesAsBefore(span: Span, r: RequestRecord): void {
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
