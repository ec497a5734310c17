// One access-log record per request or TCP connection, as Istio writes them: the body is the line of Istio's
// default TEXT format, the attributes are the fields of its default JSON format (same names), plus reporter,
// attempt count and the workloads so the dashboard can filter without parsing. Severity: INFO, WARN for 5xx or no
// response (Istio's access log has no severity; WARN makes failures findable with a plain severity filter).
// The attributes are visited one by one (visitRequestAttributes) so the exporter writes them straight into the
// OTLP batch (log-export.ts) while tests and readers can still have them as an object.
import { AttributeRecord, attributeKey, type AttributeKey, type AttributeSink } from "@trellis/otlp/encode";
import { joinFlags, UNKNOWN } from "./labels.ts";
import type { RequestRecord, TcpRecord } from "./records.ts";

/** %VALUE% as Envoy prints it: "-" for not set or empty. */
function dash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "-" : String(value);
}

// %START_TIME% of records in the same second share everything up to the milliseconds: one Date formatting per
// second instead of one per record (it was about a tenth of a record's encoding).
let isoSecond = Number.NaN;
let isoPrefix = "";

/** As new Date(ms).toISOString(). */
function startTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const iso = new Date(second * 1000).toISOString();
    isoSecond = second;
    isoPrefix = iso.slice(0, iso.length - 4); // without "000Z"
  }
  const milli = Math.floor(ms) - second * 1000;
  return `${isoPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}

function durationMs(ms: number): number {
  return Math.round(ms);
}

/**
 * Istio's default TEXT access-log format (meshConfig.accessLogFormat unset):
 * [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
 * %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED%
 * %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 * "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS%
 * %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 */
export function formatRequestLine(r: RequestRecord): string {
  return (
    `[${startTime(r.startTimeMs)}] "${r.method} ${r.path} ${r.httpVersion}" ${r.status ?? 0} ${joinFlags(r.flags)} ` +
    `${dash(r.responseCodeDetails)} - "-" ${r.requestBytes} ${r.responseBytes} ${durationMs(r.durationMs)} ${dash(r.upstreamServiceTimeMs)} ` +
    `"${dash(r.xForwardedFor)}" "${dash(r.userAgent)}" "${dash(r.requestId)}" "${dash(r.authority)}" "${dash(r.upstreamHost)}" ` +
    `${dash(r.upstreamCluster)} ${dash(r.upstreamLocalAddress)} ${dash(r.downstreamLocalAddress)} ${dash(r.downstreamRemoteAddress)} ` +
    `${dash(r.requestedServerName)} ${dash(r.routeName)}`
  );
}

/** The same format for a TCP connection: the HTTP-only operators print "-", as in Envoy's TCP proxy. */
export function formatTcpLine(r: TcpRecord): string {
  return (
    `[${startTime(r.startTimeMs)}] "- - -" 0 ${joinFlags(r.flags)} - - "-" ${r.receivedBytes} ${r.sentBytes} ${durationMs(r.durationMs)} - ` +
    `"-" "-" "-" "-" "${dash(r.upstreamHost)}" ${dash(r.upstreamCluster)} ${dash(r.upstreamLocalAddress)} ` +
    `${dash(r.downstreamLocalAddress)} ${dash(r.downstreamRemoteAddress)} ${dash(r.requestedServerName)} -`
  );
}

export type Severity = { readonly severityNumber: number; readonly severityText: string };

/** OpenTelemetry's SeverityNumber values. */
export const INFO: Severity = { severityNumber: 9, severityText: "INFO" };
export const WARN: Severity = { severityNumber: 13, severityText: "WARN" };

export function severityOf(status: number | null): Severity {
  return status === null || status >= 500 ? WARN : INFO;
}

const K = {
  logType: attributeKey("log.type"),
  method: attributeKey("method"),
  path: attributeKey("path"),
  protocol: attributeKey("protocol"),
  requestProtocol: attributeKey("request_protocol"),
  responseCode: attributeKey("response_code"),
  responseFlags: attributeKey("response_flags"),
  bytesReceived: attributeKey("bytes_received"),
  bytesSent: attributeKey("bytes_sent"),
  duration: attributeKey("duration"),
  authority: attributeKey("authority"),
  attemptCount: attributeKey("attempt_count"),
  reporter: attributeKey("reporter"),
  sourceWorkload: attributeKey("source_workload"),
  sourceNamespace: attributeKey("source_namespace"),
  destinationWorkload: attributeKey("destination_workload"),
  destinationNamespace: attributeKey("destination_namespace"),
  destinationServiceName: attributeKey("destination_service_name"),
  connectionSecurityPolicy: attributeKey("connection_security_policy"),
  grpcStatus: attributeKey("grpc_status"),
  responseCodeDetails: attributeKey("response_code_details"),
  upstreamServiceTime: attributeKey("upstream_service_time"),
  xForwardedFor: attributeKey("x_forwarded_for"),
  userAgent: attributeKey("user_agent"),
  requestId: attributeKey("request_id"),
  upstreamHost: attributeKey("upstream_host"),
  upstreamCluster: attributeKey("upstream_cluster"),
  upstreamLocalAddress: attributeKey("upstream_local_address"),
  downstreamLocalAddress: attributeKey("downstream_local_address"),
  downstreamRemoteAddress: attributeKey("downstream_remote_address"),
  requestedServerName: attributeKey("requested_server_name"),
  routeName: attributeKey("route_name"),
  sourcePrincipal: attributeKey("source_principal"),
  destinationPrincipal: attributeKey("destination_principal"),
};

type Peer = Pick<RequestRecord, "reporter" | "source" | "destination" | "destinationService" | "mtls">;

function visitPeer(r: Peer, sink: AttributeSink): void {
  sink.string(K.reporter, r.reporter);
  sink.string(K.sourceWorkload, r.source?.workload || UNKNOWN);
  sink.string(K.sourceNamespace, r.source?.namespace || UNKNOWN);
  sink.string(K.destinationWorkload, r.destination?.workload || UNKNOWN);
  sink.string(K.destinationNamespace, r.destination?.namespace || UNKNOWN);
  sink.string(K.destinationServiceName, r.destinationService || UNKNOWN);
  sink.string(K.connectionSecurityPolicy, r.mtls ? "mutual_tls" : "none");
}

type Addresses = Pick<TcpRecord, "upstreamHost" | "upstreamCluster" | "upstreamLocalAddress" | "downstreamLocalAddress" | "downstreamRemoteAddress" | "requestedServerName">;

/** Where the request or connection went and came from, as HTTP and TCP records both know it. */
function visitAddresses(r: Addresses, sink: AttributeSink): void {
  visitIfKnown(sink, K.upstreamHost, r.upstreamHost);
  visitIfKnown(sink, K.upstreamCluster, r.upstreamCluster);
  visitIfKnown(sink, K.upstreamLocalAddress, r.upstreamLocalAddress);
  visitIfKnown(sink, K.downstreamLocalAddress, r.downstreamLocalAddress);
  visitIfKnown(sink, K.downstreamRemoteAddress, r.downstreamRemoteAddress);
  visitIfKnown(sink, K.requestedServerName, r.requestedServerName);
}

/**
 * Istio's default JSON access-log fields (numbers as numbers; absent optional ones left out). start_time is the
 * OTLP record's own time (and the body's first field), so it is not repeated as an attribute.
 */
export function visitRequestAttributes(r: RequestRecord, sink: AttributeSink): void {
  sink.string(K.logType, "access");
  sink.string(K.method, r.method);
  sink.string(K.path, r.path);
  sink.string(K.protocol, r.httpVersion);
  sink.string(K.requestProtocol, r.protocol);
  sink.number(K.responseCode, r.status ?? 0);
  sink.string(K.responseFlags, joinFlags(r.flags));
  sink.number(K.bytesReceived, r.requestBytes);
  sink.number(K.bytesSent, r.responseBytes);
  sink.number(K.duration, durationMs(r.durationMs));
  sink.string(K.authority, r.authority);
  sink.number(K.attemptCount, r.attempts);
  visitPeer(r, sink);
  if (r.grpcStatus !== null) sink.number(K.grpcStatus, r.grpcStatus);
  visitIfKnown(sink, K.responseCodeDetails, r.responseCodeDetails);
  if (r.upstreamServiceTimeMs !== null && r.upstreamServiceTimeMs !== undefined) sink.number(K.upstreamServiceTime, r.upstreamServiceTimeMs);
  visitIfKnown(sink, K.xForwardedFor, r.xForwardedFor);
  visitIfKnown(sink, K.userAgent, r.userAgent);
  visitIfKnown(sink, K.requestId, r.requestId);
  visitAddresses(r, sink);
  visitIfKnown(sink, K.routeName, r.routeName);
  visitIfKnown(sink, K.sourcePrincipal, r.sourcePrincipal);
  visitIfKnown(sink, K.destinationPrincipal, r.destinationPrincipal);
}

export function visitTcpAttributes(r: TcpRecord, sink: AttributeSink): void {
  sink.string(K.logType, "access");
  sink.string(K.requestProtocol, "tcp");
  sink.string(K.responseFlags, joinFlags(r.flags));
  sink.number(K.bytesReceived, r.receivedBytes);
  sink.number(K.bytesSent, r.sentBytes);
  sink.number(K.duration, durationMs(r.durationMs));
  visitPeer(r, sink);
  visitAddresses(r, sink);
  visitIfKnown(sink, K.sourcePrincipal, r.sourcePrincipal);
  visitIfKnown(sink, K.destinationPrincipal, r.destinationPrincipal);
}

/** The attributes as an object, as exported. */
export function buildRequestAttributes(r: RequestRecord): Record<string, string | number> {
  const record = new AttributeRecord();
  visitRequestAttributes(r, record);
  return record.values;
}

export function buildTcpAttributes(r: TcpRecord): Record<string, string | number> {
  const record = new AttributeRecord();
  visitTcpAttributes(r, record);
  return record.values;
}

function visitIfKnown(sink: AttributeSink, key: AttributeKey, value: string | null | undefined): void {
  if (value !== null && value !== undefined && value !== "") sink.string(key, value);
}
