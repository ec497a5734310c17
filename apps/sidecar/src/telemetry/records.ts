// What the request path tells telemetry about each finished request or TCP connection: one record, from which the
// spans' final attributes, the Istio metrics and the access-log record are all derived. The data path fills it in;
// it never formats, aggregates or exports anything itself.
import type { ResponseFlag } from "../response-flags.ts";
import type { TraceContext } from "./trace-context.ts";

/** A workload as Istio's metric labels describe it (`*_workload`, `*_app`, `*_version`, namespace). */
export type WorkloadLabels = { workload: string; app: string; version: string; namespace: string };

export type RequestRecord = {
  /** Istio's `reporter`: "source" on outbound (and a gateway), "destination" on inbound. */
  reporter: "source" | "destination";
  /** Istio's `request_protocol`. */
  protocol: "http" | "grpc";
  /** The downstream HTTP version, as in the access log's %PROTOCOL%: "HTTP/1.1" or "HTTP/2". */
  httpVersion: string;
  method: string;
  /** Path with query, as received. */
  path: string;
  /** :authority / Host. */
  authority: string;
  /** x-request-id (the sidecar sets one when the app did not). */
  requestId: string | null;
  userAgent: string | null;
  /** When the request arrived, epoch milliseconds. */
  startTimeMs: number;
  /** Until the response was complete or abandoned. */
  durationMs: number;
  /** Status sent downstream; null when none was (the connection was cut first). */
  status: number | null;
  /** grpc-status from the trailers (or headers) for gRPC; null otherwise. */
  grpcStatus: number | null;
  /** Envoy response flags in the order they arose; empty when the proxy shaped nothing ("-" in the log). */
  flags: readonly ResponseFlag[];
  /** Body bytes received from downstream / sent downstream. */
  requestBytes: number;
  responseBytes: number;
  /** Upstream attempts made (retries included); 0 when answered locally. */
  attempts: number;
  /** host:port of the last attempt's endpoint; null when none was picked. */
  upstreamHost: string | null;
  /** The cluster of the last attempt (`<service>` or `<service>|<subset>`); null when none was chosen. */
  upstreamCluster: string | null;
  /** The route's name or label; null when no route took the request. */
  routeName: string | null;
  /** Source and destination as known: on outbound the source is this workload; on inbound the destination is. */
  source: WorkloadLabels | null;
  destination: WorkloadLabels | null;
  /** Istio's `destination_service_name`: the service the request was addressed to. */
  destinationService: string;
  /** SPIFFE IDs, when the hop was mutual TLS. */
  sourcePrincipal: string | null;
  destinationPrincipal: string | null;
  /** Istio's `connection_security_policy`: "mutual_tls" or "none". */
  mtls: boolean;

  // Optional access-log fields (Istio's default format); "-" in the log when absent.
  /** x-forwarded-for as received. */
  xForwardedFor?: string | null;
  /** Envoy's %RESPONSE_CODE_DETAILS%, e.g. "via_upstream", "route_not_found", "rbac_access_denied". */
  responseCodeDetails?: string | null;
  /** Envoy's x-envoy-upstream-service-time: ms from sending upstream to the first response byte. */
  upstreamServiceTimeMs?: number | null;
  /** ip:port this side used to reach the upstream (the last attempt). */
  upstreamLocalAddress?: string | null;
  /** ip:port the request arrived on / came from. */
  downstreamLocalAddress?: string | null;
  downstreamRemoteAddress?: string | null;
  /** TLS SNI the caller asked for, on mTLS inbound. */
  requestedServerName?: string | null;
  /** The span this sidecar made for the request, so the access-log record links to the trace. */
  spanContext?: TraceContext | null;
};

export type TcpRecord = {
  reporter: "source" | "destination";
  startTimeMs: number;
  durationMs: number;
  /** Bytes this side sent to / received from its downstream. */
  sentBytes: number;
  receivedBytes: number;
  flags: readonly ResponseFlag[];
  upstreamHost: string | null;
  upstreamCluster: string | null;
  source: WorkloadLabels | null;
  destination: WorkloadLabels | null;
  destinationService: string;
  sourcePrincipal: string | null;
  destinationPrincipal: string | null;
  mtls: boolean;
  /** Optional access-log fields, as on RequestRecord. */
  downstreamLocalAddress?: string | null;
  downstreamRemoteAddress?: string | null;
  upstreamLocalAddress?: string | null;
  requestedServerName?: string | null;
};

/** The record of an outbound TCP tunnel (TCP pass-through, WebSocket) as it opens; the proxy fills in the rest. */
export function openOutboundTcpRecord(source: WorkloadLabels, destinationService: string, startTimeMs = Date.now()): TcpRecord {
  return {
    reporter: "source",
    startTimeMs,
    durationMs: 0,
    sentBytes: 0,
    receivedBytes: 0,
    flags: [],
    upstreamHost: null,
    upstreamCluster: null,
    source,
    destination: null,
    destinationService,
    sourcePrincipal: null,
    destinationPrincipal: null,
    mtls: false,
  };
}

/**
 * Per-cluster resilience events, counted as `trellis_upstream_*_total{cluster_name, event}` (Envoy's
 * `upstream_rq_retry`, `upstream_rq_retry_overflow`, `upstream_rq_pending_overflow`, outlier ejections…).
 */
export type ClusterEvent =
  | "retry"
  | "retry_success"
  | "retry_overflow"
  | "retry_limit_exceeded"
  | "per_try_timeout"
  | "overflow_pending"
  | "overflow_requests"
  | "overflow_connections"
  | "outlier_ejected"
  | "outlier_returned"
  | "mirror";
