// The sidecar's telemetry, built once per sidecar: spans (traces.ts, trace-context.ts), Istio metrics
// pre-aggregated in place (metric-store.ts) and exported over OTLP and /stats/prometheus (metrics-export.ts), and
// one access-log record per request (access-log.ts, log-export.ts). Spans and log records are encoded straight into
// OTLP batches as they finish and metrics when they are pushed, with no OpenTelemetry SDK loaded at all; everything
// exports in the background through bounded queues, so a slow or absent collector never delays a request, and what
// is dropped instead is counted (trellis_telemetry_dropped_total).
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { encodeResource } from "@trellis/otlp/encode";
import { createAccessLog } from "./log-export.ts";
import { createMetricStore } from "./metric-store.ts";
import { createMetricsExport } from "./metrics-export.ts";
import type { ClusterEvent, RequestRecord, TcpRecord } from "./records.ts";
import { collectStats, type Stat } from "./stats-text.ts";
import { injectTraceContext, type TraceContext } from "./trace-context.ts";
import { createSpanExport, type FinishedSpan, type HttpSpan, type HttpSpanEnd, type HttpSpanStart } from "./traces.ts";

export type { FinishedSpan, HttpSpan, HttpSpanEnd, HttpSpanStart, TraceContext };

export type TelemetryIdentity = { service: string; namespace: string; version: string; workload: string };

/**
 * The resource of every span, log record and metric (and /stats/prometheus' target_info): the workload's identity,
 * and the telemetry.sdk.* attributes OpenTelemetry's semantic conventions ask of whatever produced the telemetry —
 * here the sidecar's own encoders, not the OpenTelemetry SDK (whose name and version it used to report).
 */
export function buildResourceAttributes(identity: TelemetryIdentity): Record<string, string> {
  return {
    "service.name": identity.service,
    "service.namespace": identity.namespace,
    "service.version": identity.version,
    "service.instance.id": identity.workload,
    "telemetry.sdk.language": "nodejs",
    "telemetry.sdk.name": "trellis-sidecar",
  };
}

export type TelemetrySettings = {
  /** Share of traces started here that are sampled, 0..1 (a caller's decision is kept). Default 1. */
  traceSampling?: number;
  /** How often metrics are pushed over OTLP. Default 10 s. */
  metricsExportIntervalMs?: number;
  /** One OTLP log record per request. Default on. */
  accessLog?: boolean;
  /** Headers on every OTLP export, e.g. the ingest bearer token. */
  otlpHeaders?: Record<string, string>;
};

export type Telemetry = {
  /** The trace context the caller sent, W3C or B3; null when there is none (a new trace starts here). */
  extract: (headers: IncomingHttpHeaders) => TraceContext | null;
  /** Writes traceparent (and tracestate) for `context` (a span, to make the next hop its child) into outgoing headers. */
  inject: (context: TraceContext, headers: OutgoingHttpHeaders) => void;
  startHttpSpan: (start: HttpSpanStart) => HttpSpan;
  /** Ends the span; only its first end counts, so a retry may end an attempt's span before the request ends. */
  endHttpSpan: (span: HttpSpan, end: HttpSpanEnd) => void;
  /** One finished HTTP/gRPC request: Istio metrics and the access-log record. */
  recordRequest: (record: RequestRecord) => void;
  /** One finished TCP connection (plain TCP pass-through, WebSocket after the upgrade). */
  recordTcp: (record: TcpRecord) => void;
  /** A resilience event on a cluster (retry, overflow, ejection, …). */
  recordClusterEvent: (cluster: string, event: ClusterEvent) => void;
  /** GET /stats/prometheus. */
  servePrometheus: (req: IncomingMessage, res: ServerResponse) => void;
  /** GET /stats: Envoy-style counters. */
  stats: () => Stat[];
  /** Flushes queued spans, logs and metrics, waiting at most `timeoutMs`. */
  shutdown: (timeoutMs: number) => Promise<void>;
};

export function createTelemetry({
  identity,
  otlpEndpoint,
  onSpanEnd,
  settings = {},
}: {
  identity: TelemetryIdentity;
  otlpEndpoint: string;
  /** Sees every sampled span as it ends (tests). */
  onSpanEnd?: (span: FinishedSpan) => void;
  settings?: TelemetrySettings;
}): Telemetry {
  const endpoint = otlpEndpoint.replace(/\/+$/, "");
  const resourceAttributes = buildResourceAttributes(identity);
  // Spans, log records and metrics share the resource, encoded once.
  const encodedResource = encodeResource(resourceAttributes);
  const otlpHeaders = settings.otlpHeaders ?? {};
  const store = createMetricStore();
  const spans = createSpanExport({
    resource: encodedResource,
    otlpEndpoint: endpoint,
    otlpHeaders,
    samplingRatio: settings.traceSampling ?? 1,
    onSpanEnd,
    onDrop: (reason, count) => store.countDropped("spans", reason, count),
  });
  const metrics = createMetricsExport({
    resource: encodedResource,
    resourceAttributes,
    otlpEndpoint: endpoint,
    otlpHeaders,
    intervalMs: settings.metricsExportIntervalMs ?? 10_000,
    store,
  });
  const accessLog =
    settings.accessLog === false ? null : createAccessLog({ resource: encodedResource, otlpEndpoint: endpoint, otlpHeaders, onDrop: (reason, count) => store.countDropped("logs", reason, count) });

  return {
    extract: spans.extract,
    inject: injectTraceContext,
    startHttpSpan: spans.start,
    endHttpSpan: spans.end,

    recordRequest(record) {
      store.recordRequest(record);
      accessLog?.recordRequest(record);
    },

    recordTcp(record) {
      store.recordTcp(record);
      accessLog?.recordTcp(record);
    },

    recordClusterEvent: (cluster, event) => store.recordClusterEvent(cluster, event),
    servePrometheus: (req, res) => metrics.servePrometheus(req, res),
    stats: () => collectStats(store, process.memoryUsage()),

    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      const flushed = Promise.all([spans.shutdown(), metrics.shutdown(), accessLog?.shutdown()].map((p) => Promise.resolve(p).catch(() => {})));
      await Promise.race([flushed, timeout]);
      clearTimeout(timer);
    },
  };
}
