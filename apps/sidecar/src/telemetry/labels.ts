// Istio's standard metric labels, derived from a finished request's record exactly as Istio's stats filter names
// them ("unknown" where a value is not known, "-" for no response flags), plus the cheap series key that lets the
// hot path find an existing series without building the ~20-label object again.
import type { ResponseFlag } from "../response-flags.ts";
import type { RequestRecord, TcpRecord, WorkloadLabels } from "./records.ts";

export const UNKNOWN = "unknown";

/** Label values are strings, as in Prometheus; the object is built once per series and shared. */
export type MetricLabels = Readonly<Record<string, string>>;

/** Envoy's %RESPONSE_FLAGS%: "-" when the proxy shaped nothing, else the flags comma-joined in the order they arose. */
export function joinFlags(flags: readonly ResponseFlag[]): string {
  if (flags.length === 0) return "-";
  if (flags.length === 1) return flags[0] ?? "-";
  return flags.join(",");
}

/** Istio's destination_service: the FQDN form its consumers (Kiali, dashboards) expect. */
export function destinationServiceFqdn(service: string, namespace: string | null): string {
  return namespace === null ? service : `${service}.${namespace}.svc.cluster.local`;
}

type Peer = Pick<RequestRecord, "reporter" | "source" | "destination" | "destinationService" | "sourcePrincipal" | "destinationPrincipal" | "mtls">;

/** The labels istio_requests_total and the other istio_* metrics share, HTTP and TCP alike. */
function peerLabels(record: Peer): Record<string, string> {
  const source: WorkloadLabels | null = record.source;
  const destination: WorkloadLabels | null = record.destination;
  const serviceNamespace = destination?.namespace || null;
  return {
    reporter: record.reporter,
    source_workload: source?.workload || UNKNOWN,
    source_workload_namespace: source?.namespace || UNKNOWN,
    source_principal: record.sourcePrincipal ?? UNKNOWN,
    source_app: source?.app || UNKNOWN,
    source_version: source?.version || UNKNOWN,
    source_canonical_service: source?.app || UNKNOWN,
    source_canonical_revision: source?.version || "latest",
    destination_workload: destination?.workload || UNKNOWN,
    destination_workload_namespace: destination?.namespace || UNKNOWN,
    destination_principal: record.destinationPrincipal ?? UNKNOWN,
    destination_app: destination?.app || UNKNOWN,
    destination_version: destination?.version || UNKNOWN,
    destination_canonical_service: destination?.app || UNKNOWN,
    destination_canonical_revision: destination?.version || "latest",
    destination_service: record.destinationService ? destinationServiceFqdn(record.destinationService, serviceNamespace) : UNKNOWN,
    destination_service_name: record.destinationService || UNKNOWN,
    destination_service_namespace: serviceNamespace || UNKNOWN,
    connection_security_policy: record.mtls ? "mutual_tls" : "none",
  };
}

/** Labels of istio_requests_total / _duration_milliseconds / _request_bytes / _response_bytes. */
export function buildRequestLabels(record: RequestRecord): MetricLabels {
  return {
    ...peerLabels(record),
    request_protocol: record.protocol,
    // Envoy reports 0 when no response was sent (the connection was cut first).
    response_code: String(record.status ?? 0),
    // Istio leaves it empty on plain HTTP.
    grpc_response_status: record.grpcStatus === null ? "" : String(record.grpcStatus),
    response_flags: joinFlags(record.flags),
  };
}

/** Labels of istio_tcp_* (Istio's TCP metrics carry no request_protocol/response_code). */
export function buildTcpLabels(record: TcpRecord): MetricLabels {
  return { ...peerLabels(record), request_protocol: "tcp", response_flags: joinFlags(record.flags) };
}

const SEP = "\u0001";
/** Stands for null, so that null and "" (which label differently) never share a key. */
const NIL = "\u0002";

function workloadKey(w: WorkloadLabels | null): string {
  return w === null ? NIL : w.workload + SEP + w.namespace + SEP + w.app + SEP + w.version;
}

/**
 * A string that differs exactly when the labels differ: every field the labels read, separated by a character
 * that does not occur in them. A string concatenation and one Map lookup per request instead of ~20 properties.
 */
export function requestSeriesKey(r: RequestRecord): string {
  return (
    r.reporter + SEP + r.protocol + SEP + (r.status ?? 0) + SEP + (r.grpcStatus ?? NIL) + SEP + joinFlags(r.flags) + SEP +
    (r.mtls ? "1" : "0") + SEP + r.destinationService + SEP + (r.sourcePrincipal ?? NIL) + SEP + (r.destinationPrincipal ?? NIL) + SEP +
    workloadKey(r.source) + SEP + workloadKey(r.destination)
  );
}

function sameWorkload(a: WorkloadLabels | null, b: WorkloadLabels | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a.workload === b.workload && a.namespace === b.namespace && a.app === b.app && a.version === b.version;
}

function sameFlags(a: readonly ResponseFlag[], b: readonly ResponseFlag[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether two records fall in the same series: the fields requestSeriesKey reads, compared in place. Consecutive
 * requests mostly do, and this lets the hot path skip building and hashing the key for them.
 */
export function sameRequestSeries(a: RequestRecord, b: RequestRecord): boolean {
  return (
    a.status === b.status && a.reporter === b.reporter && a.protocol === b.protocol && a.grpcStatus === b.grpcStatus && a.mtls === b.mtls &&
    a.destinationService === b.destinationService && a.sourcePrincipal === b.sourcePrincipal && a.destinationPrincipal === b.destinationPrincipal &&
    sameFlags(a.flags, b.flags) && sameWorkload(a.source, b.source) && sameWorkload(a.destination, b.destination)
  );
}

export function tcpSeriesKey(r: TcpRecord): string {
  return (
    r.reporter + SEP + joinFlags(r.flags) + SEP + (r.mtls ? "1" : "0") + SEP + r.destinationService + SEP + (r.sourcePrincipal ?? NIL) + SEP +
    (r.destinationPrincipal ?? NIL) + SEP + workloadKey(r.source) + SEP + workloadKey(r.destination)
  );
}
