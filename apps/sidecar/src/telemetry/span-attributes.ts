// A span's attributes, named once for the OTLP encoder and for the test hook alike: OpenTelemetry's HTTP semantic
// conventions where they have a name, trellis.* otherwise. The request's finished record, when the span got it,
// has the last word (its route label, cluster, flags). What the span already says is left out to keep every
// exported span small: the reporter (the span kind says it) and an empty flag list ("-").
import { attributeKey, type AttributeSink } from "@trellis/otlp/encode";
import { joinFlags } from "./labels.ts";
import type { HttpSpan } from "./traces.ts";

const K = {
  method: attributeKey("http.request.method"),
  path: attributeKey("url.path"),
  serverAddress: attributeKey("server.address"),
  serverPort: attributeKey("server.port"),
  upstreamService: attributeKey("trellis.upstream_service"),
  routeName: attributeKey("trellis.route_name"),
  cluster: attributeKey("trellis.cluster"),
  destinationSubset: attributeKey("trellis.destination_subset"),
  destinationWorkload: attributeKey("trellis.destination_workload"),
  resendCount: attributeKey("http.request.resend_count"),
  rbacDenied: attributeKey("trellis.rbac_denied"),
  status: attributeKey("http.response.status_code"),
  flags: attributeKey("trellis.response_flags"),
  protocolVersion: attributeKey("network.protocol.version"),
  requestBodySize: attributeKey("http.request.body.size"),
  responseBodySize: attributeKey("http.response.body.size"),
  attempts: attributeKey("trellis.attempts"),
  userAgent: attributeKey("user_agent.original"),
  requestId: attributeKey("trellis.request_id"),
  grpcStatus: attributeKey("rpc.grpc.status_code"),
  upstreamHost: attributeKey("trellis.upstream_host"),
  sourcePrincipal: attributeKey("trellis.source_principal"),
  destinationPrincipal: attributeKey("trellis.destination_principal"),
  errorType: attributeKey("error.type"),
};

/** Every attribute of an ended span, in a fixed order. */
export function visitSpanAttributes(span: HttpSpan, sink: AttributeSink): void {
  const r = span.record;
  sink.string(K.method, span.name);
  sink.string(K.path, span.path);
  sink.string(K.serverAddress, span.serverAddress);
  if (span.serverPort !== undefined) sink.number(K.serverPort, span.serverPort);
  if (span.upstreamService !== undefined) sink.string(K.upstreamService, span.upstreamService);
  const routeName = r?.routeName ?? span.routeName;
  if (routeName !== undefined) sink.string(K.routeName, routeName);
  const cluster = r?.upstreamCluster ?? span.cluster;
  if (cluster !== undefined) sink.string(K.cluster, cluster);
  if (span.destinationSubset !== undefined) sink.string(K.destinationSubset, span.destinationSubset);
  if (span.destinationWorkload !== undefined) sink.string(K.destinationWorkload, span.destinationWorkload);
  if (span.resendCount !== undefined) sink.number(K.resendCount, span.resendCount);
  if (span.rbacDenied !== undefined) sink.string(K.rbacDenied, span.rbacDenied);
  if (span.status !== null) sink.number(K.status, span.status);
  const flags = r !== undefined && r.flags.length > 0 ? joinFlags(r.flags) : span.flag;
  if (flags !== null) sink.string(K.flags, flags);
  if (r !== undefined) {
    sink.string(K.protocolVersion, r.httpVersion === "HTTP/2" ? "2" : "1.1");
    sink.number(K.requestBodySize, r.requestBytes);
    sink.number(K.responseBodySize, r.responseBytes);
    sink.number(K.attempts, r.attempts);
    if (r.userAgent !== null) sink.string(K.userAgent, r.userAgent);
    if (r.requestId !== null) sink.string(K.requestId, r.requestId);
    if (r.grpcStatus !== null) sink.number(K.grpcStatus, r.grpcStatus);
    if (r.upstreamHost !== null) sink.string(K.upstreamHost, r.upstreamHost);
    if (r.sourcePrincipal !== null) sink.string(K.sourcePrincipal, r.sourcePrincipal);
    if (r.destinationPrincipal !== null) sink.string(K.destinationPrincipal, r.destinationPrincipal);
  }
  if (span.statusCode() !== 0) sink.string(K.errorType, span.flag ?? (span.status === null ? "no_response" : String(span.status)));
}
