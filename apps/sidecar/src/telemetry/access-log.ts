// One access-log record per request or TCP connection, as Istio writes them: the body is the line of Istio's
// default TEXT format, the attributes are the fields of its default JSON format (same names), plus reporter,
// attempt count and the workloads so the dashboard can filter without parsing. Severity: INFO, WARN for 5xx or no
// response (Istio's access log has no severity; WARN makes failures findable with a plain severity filter).
import { SeverityNumber, type LogAttributes } from "@opentelemetry/api-logs";
import { joinFlags, UNKNOWN } from "./labels.ts";
import type { RequestRecord, TcpRecord } from "./records.ts";

/** %VALUE% as Envoy prints it: "-" for not set or empty. */
function dash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === "" ? "-" : String(value);
}

function startTime(ms: number): string {
  return new Date(ms).toISOString();
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

export function severityOf(status: number | null): { severityNumber: SeverityNumber; severityText: string } {
  return status === null || status >= 500 ? { severityNumber: SeverityNumber.WARN, severityText: "WARN" } : { severityNumber: SeverityNumber.INFO, severityText: "INFO" };
}

type Peer = Pick<RequestRecord, "reporter" | "source" | "destination" | "destinationService" | "mtls">;

function peerAttributes(r: Peer): LogAttributes {
  return {
    reporter: r.reporter,
    source_workload: r.source?.workload || UNKNOWN,
    source_namespace: r.source?.namespace || UNKNOWN,
    destination_workload: r.destination?.workload || UNKNOWN,
    destination_namespace: r.destination?.namespace || UNKNOWN,
    destination_service_name: r.destinationService || UNKNOWN,
    connection_security_policy: r.mtls ? "mutual_tls" : "none",
  };
}

/**
 * Istio's default JSON access-log fields (numbers as numbers; absent optional ones left out). start_time is the
 * OTLP record's own time (and the body's first field), so it is not repeated as an attribute.
 */
export function buildRequestAttributes(r: RequestRecord): LogAttributes {
  const attributes: LogAttributes = {
    "log.type": "access",
    method: r.method,
    path: r.path,
    protocol: r.httpVersion,
    request_protocol: r.protocol,
    response_code: r.status ?? 0,
    response_flags: joinFlags(r.flags),
    bytes_received: r.requestBytes,
    bytes_sent: r.responseBytes,
    duration: durationMs(r.durationMs),
    authority: r.authority,
    attempt_count: r.attempts,
    ...peerAttributes(r),
  };
  if (r.grpcStatus !== null) attributes.grpc_status = r.grpcStatus;
  setIfKnown(attributes, "response_code_details", r.responseCodeDetails);
  setIfKnown(attributes, "upstream_service_time", r.upstreamServiceTimeMs);
  setIfKnown(attributes, "x_forwarded_for", r.xForwardedFor);
  setIfKnown(attributes, "user_agent", r.userAgent);
  setIfKnown(attributes, "request_id", r.requestId);
  setIfKnown(attributes, "upstream_host", r.upstreamHost);
  setIfKnown(attributes, "upstream_cluster", r.upstreamCluster);
  setIfKnown(attributes, "upstream_local_address", r.upstreamLocalAddress);
  setIfKnown(attributes, "downstream_local_address", r.downstreamLocalAddress);
  setIfKnown(attributes, "downstream_remote_address", r.downstreamRemoteAddress);
  setIfKnown(attributes, "requested_server_name", r.requestedServerName);
  setIfKnown(attributes, "route_name", r.routeName);
  setIfKnown(attributes, "source_principal", r.sourcePrincipal);
  setIfKnown(attributes, "destination_principal", r.destinationPrincipal);
  return attributes;
}

export function buildTcpAttributes(r: TcpRecord): LogAttributes {
  const attributes: LogAttributes = {
    "log.type": "access",
    request_protocol: "tcp",
    response_flags: joinFlags(r.flags),
    bytes_received: r.receivedBytes,
    bytes_sent: r.sentBytes,
    duration: durationMs(r.durationMs),
    ...peerAttributes(r),
  };
  setIfKnown(attributes, "upstream_host", r.upstreamHost);
  setIfKnown(attributes, "upstream_cluster", r.upstreamCluster);
  setIfKnown(attributes, "upstream_local_address", r.upstreamLocalAddress);
  setIfKnown(attributes, "downstream_local_address", r.downstreamLocalAddress);
  setIfKnown(attributes, "downstream_remote_address", r.downstreamRemoteAddress);
  setIfKnown(attributes, "requested_server_name", r.requestedServerName);
  setIfKnown(attributes, "source_principal", r.sourcePrincipal);
  setIfKnown(attributes, "destination_principal", r.destinationPrincipal);
  return attributes;
}

function setIfKnown(attributes: LogAttributes, key: string, value: string | number | null | undefined): void {
  if (value !== null && value !== undefined && value !== "") attributes[key] = value;
}
