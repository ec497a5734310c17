// RED contributions from Istio's request-duration histogram (istio_request_duration_milliseconds, as Trellis
// sidecars and Envoy export it): each new point becomes a delta (cumulative series are differenced against the
// series' last point), and its labels name the edge.
import type { AttributeValue, MetricPointRecord } from "@trellis/otlp";
import { fromExplicitBuckets, fromExponentialBuckets } from "../latency-histogram.ts";
import { UNKNOWN, responseClassOf, type RedContribution } from "./red-contribution.ts";

/** The metric RED rollups are built from; istio_requests_total carries the same counts without latency. */
export const ISTIO_DURATION = "istio_request_duration_milliseconds";

/** The last point of a cumulative series, kept in metric_series. */
export type SeriesState = { startMs: number; timeMs: number; count: number; sum: number; bucketCounts: number[] };

export type Delta = { count: number; sum: number; bucketCounts: number[] };

/**
 * A cumulative series whose first point we see counts from its start when that start is this recent before the
 * point (a process that just began), or when other series of the same process were seen before (a label set that
 * just appeared, e.g. the first 503: OpenTelemetry gives every series the process's start time). Otherwise — ingest
 * newly pointed at a running mesh — the first point only sets the baseline, so a whole history is not put into
 * one bucket.
 */
const FRESH_SERIES_MS = 5 * 60_000;

/**
 * The delta a point adds, and the state to keep. Delta points are their own delta; a cumulative point older than
 * or equal to the state adds nothing (a resend or an out-of-order point); a restarted series (new start time or a
 * smaller count) counts from its new start.
 */
export function deltaOf(point: MetricPointRecord, state: SeriesState | null, processSeenBefore = false): { delta: Delta | null; state: SeriesState | null } {
  const count = point.count ?? 0;
  const sum = point.sum ?? 0;
  const buckets = bucketsOf(point);
  if (point.temporality !== "cumulative") return { delta: { count, sum, bucketCounts: buckets }, state };
  const startMs = nanosToMs(point.startTimeUnixNano);
  const timeMs = nanosToMs(point.timeUnixNano);
  const next: SeriesState = { startMs, timeMs, count, sum, bucketCounts: buckets };
  if (state && timeMs <= state.timeMs) return { delta: null, state };
  const restarted = !state || state.startMs !== startMs || count < state.count;
  if (!restarted) {
    const bucketCounts = buckets.map((c, i) => Math.max(0, c - (state.bucketCounts[i] ?? 0)));
    return { delta: { count: count - state.count, sum: sum - state.sum, bucketCounts }, state: next };
  }
  const fresh = state !== null || processSeenBefore || timeMs - startMs <= FRESH_SERIES_MS;
  return { delta: fresh ? { count, sum, bucketCounts: buckets } : null, state: next };
}

/** Response flags meaning the request never reached the destination's proxy, so only the source reported it. */
const NEVER_REACHED = new Set(["UF", "UH", "UO", "NR", "FI", "URX"]);

/**
 * The contribution of an istio_request_duration_milliseconds delta, or null when the other reporter counts it:
 * requests are counted where the destination reported them, and where only the source could (the destination is
 * outside the mesh, or the request never got there).
 */
export function contributionFromIstio(point: MetricPointRecord, delta: Delta): RedContribution | null {
  if (delta.count <= 0) return null;
  const label = (name: string) => text(point.attributes[name]);
  const reporter = label("reporter");
  const destinationWorkload = label("destination_workload") ?? UNKNOWN;
  const flags = (label("response_flags") ?? "-").split(",");
  if (reporter === "source" && destinationWorkload !== UNKNOWN && !flags.some((flag) => NEVER_REACHED.has(flag))) return null;
  const code = Number(label("response_code") ?? 0);
  const protocol = label("request_protocol") ?? "http";
  const grpcStatus = label("grpc_response_status");
  const failed = code === 0 || code >= 500 || (protocol === "grpc" && grpcStatus !== null && grpcStatus !== "" && grpcStatus !== "0");
  const toMs = unitToMs(point);
  const histogram = point.exponential ? delta.bucketCounts : fromExplicitBuckets(point.bounds.map((bound) => bound * toMs), delta.bucketCounts);
  const sourceNamespace = label("source_workload_namespace") ?? UNKNOWN;
  const destinationService = label("destination_service_name") ?? label("destination_canonical_service") ?? label("destination_app") ?? UNKNOWN;
  return {
    timeMs: nanosToMs(point.timeUnixNano),
    sourceNamespace,
    sourceService: label("source_canonical_service") ?? label("source_app") ?? label("source_workload") ?? UNKNOWN,
    sourceWorkload: label("source_workload") ?? UNKNOWN,
    sourceVersion: label("source_version") ?? label("source_canonical_revision") ?? UNKNOWN,
    destinationNamespace: destinationNamespaceOf(label, destinationService, sourceNamespace),
    destinationService: shortName(destinationService),
    destinationWorkload,
    destinationVersion: label("destination_version") ?? label("destination_canonical_revision") ?? UNKNOWN,
    protocol,
    responseClass: responseClassOf(code),
    requests: delta.count,
    errors: failed ? delta.count : 0,
    mtlsRequests: label("connection_security_policy") === "mutual_tls" ? delta.count : 0,
    durationSumMs: delta.sum * toMs,
    histogram,
  };
}

/**
 * The counts a series is differenced in: explicit buckets as sent, exponential ones mapped onto the rollup's log
 * buckets first (their offset and scale may change between points; the log buckets do not).
 */
function bucketsOf(point: MetricPointRecord): number[] {
  const e = point.exponential;
  return e ? fromExponentialBuckets(e.scale, e.positive, e.zeroCount, unitToMs(point)) : point.bucketCounts;
}

function unitToMs(point: MetricPointRecord): number {
  return point.unit === "s" ? 1000 : 1;
}

/**
 * A request that never reached a destination (no route, no endpoint, connect failure) was reported by its source
 * without the destination's namespace; a short service name is resolved in the caller's namespace, as Kubernetes
 * DNS resolves it, so the failures land on the same node as the successes.
 */
function destinationNamespaceOf(label: (name: string) => string | null, service: string, sourceNamespace: string): string {
  const known = label("destination_service_namespace") ?? label("destination_workload_namespace");
  if (known && known !== UNKNOWN) return known;
  if (service.includes(".svc.")) return service.split(".")[1] ?? UNKNOWN;
  return service !== UNKNOWN && !service.includes(".") ? sourceNamespace : UNKNOWN;
}

/** Istio's destination_service_name is short; destination_service is the FQDN (reviews.default.svc.cluster.local). */
function shortName(name: string): string {
  return name.includes(".svc.") ? (name.split(".")[0] ?? name) : name;
}

function text(value: AttributeValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  const s = String(value);
  return s === "" ? null : s;
}

export function nanosToMs(nanos: bigint): number {
  return Number(nanos / 1_000_000n);
}
