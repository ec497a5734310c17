// The sidecar's telemetry, built once per sidecar: spans (traces.ts), Istio metrics pre-aggregated in place
// (metric-store.ts) and exported over OTLP and /stats/prometheus (metrics-export.ts), and one access-log record
// per request (access-log.ts). Everything exports in the background through bounded queues; a slow or absent
// collector never delays a request, and what is dropped instead is counted (trellis_telemetry_dropped_total).
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import type { Logger } from "@opentelemetry/api-logs";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import type { SpanProcessor } from "@opentelemetry/sdk-trace";
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { isErrorStatus, type ResponseFlag } from "../response-flags.ts";
import { buildRequestAttributes, buildTcpAttributes, formatRequestLine, formatTcpLine, severityOf } from "./access-log.ts";
import { createAccessLogger } from "./log-export.ts";
import { createMetricStore } from "./metric-store.ts";
import { createMetricsExport } from "./metrics-export.ts";
import type { ClusterEvent, RequestRecord, TcpRecord } from "./records.ts";
import { setRecordAttributes } from "./span-attributes.ts";
import { collectStats, type Stat } from "./stats-text.ts";
import { createTracerProvider, extractContext, injectContext, TRACER_NAME } from "./traces.ts";

export type TelemetryIdentity = { service: string; namespace: string; version: string; workload: string };

export type HttpSpanStart = {
  kind: "server" | "client";
  method: string;
  path: string;
  /** Host the request was addressed to (server spans) or the endpoint called (client spans). */
  serverAddress: string;
  serverPort?: number;
  /** Destination service name, on client spans. */
  upstreamService?: string;
  parent: Context;
};

export type HttpSpanEnd = {
  status: number | null;
  flag: ResponseFlag | null;
  /** The request's finished record, when the caller has it: its fields become the span's final attributes. */
  record?: RequestRecord;
};

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
  /** The trace context the caller sent, W3C or B3 (or an empty one, which starts a new trace). */
  extract: (headers: IncomingHttpHeaders) => Context;
  /** Writes traceparent (and tracestate) for the span in `context` into outgoing headers. */
  inject: (context: Context, headers: OutgoingHttpHeaders) => void;
  startHttpSpan: (start: HttpSpanStart) => Span;
  endHttpSpan: (span: Span, end: HttpSpanEnd) => void;
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
  spanProcessors = [],
  settings = {},
}: {
  identity: TelemetryIdentity;
  otlpEndpoint: string;
  spanProcessors?: SpanProcessor[];
  settings?: TelemetrySettings;
}): Telemetry {
  const endpoint = otlpEndpoint.replace(/\/+$/, "");
  const resource = defaultResource().merge(
    resourceFromAttributes({
      "service.name": identity.service,
      "service.namespace": identity.namespace,
      "service.version": identity.version,
      "service.instance.id": identity.workload,
    }),
  );
  const otlpHeaders = settings.otlpHeaders ?? {};
  const store = createMetricStore();
  const provider = createTracerProvider({
    resource,
    otlpEndpoint: endpoint,
    otlpHeaders,
    samplingRatio: settings.traceSampling ?? 1,
    spanProcessors,
    onDrop: (reason, count) => store.countDropped("spans", reason, count),
  });
  const tracer = provider.getTracer(TRACER_NAME);
  const metrics = createMetricsExport({ resource, otlpEndpoint: endpoint, otlpHeaders, intervalMs: settings.metricsExportIntervalMs ?? 10_000, store });
  const accessLog = settings.accessLog === false ? null : createAccessLogger({ resource, otlpEndpoint: endpoint, otlpHeaders, onDrop: (reason, count) => store.countDropped("logs", reason, count) });
  const logger: Logger | null = accessLog?.logger ?? null;

  return {
    extract: extractContext,
    inject: injectContext,

    startHttpSpan({ kind, method, path, serverAddress, serverPort, upstreamService, parent }) {
      const attributes: Record<string, string | number> = {
        "http.request.method": method,
        "url.path": path,
        "server.address": serverAddress,
      };
      if (serverPort !== undefined) attributes["server.port"] = serverPort;
      if (upstreamService !== undefined) attributes["trellis.upstream_service"] = upstreamService;
      // Semconv span name is "{method}" when no low-cardinality route template is known, which a proxy never is.
      return tracer.startSpan(method, { kind: kind === "server" ? SpanKind.SERVER : SpanKind.CLIENT, attributes }, parent);
    },

    endHttpSpan(span, { status, flag, record }) {
      // An unsampled span records nothing; skip the attribute work.
      if (span.isRecording()) {
        if (status !== null) span.setAttribute("http.response.status_code", status);
        if (flag !== null) span.setAttribute("trellis.response_flags", flag);
        if (record !== undefined) setRecordAttributes(span, record);
        if (isErrorStatus(status)) {
          span.setAttribute("error.type", flag ?? (status === null ? "no_response" : String(status)));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
      }
      span.end();
    },

    recordRequest(record) {
      store.recordRequest(record);
      if (logger === null) return;
      const { spanContext } = record;
      logger.emit({
        timestamp: record.startTimeMs,
        ...severityOf(record.status),
        body: formatRequestLine(record),
        attributes: buildRequestAttributes(record),
        // The SDK takes a log record's trace and span ids from its context only.
        context: spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : undefined,
      });
    },

    recordTcp(record) {
      store.recordTcp(record);
      if (logger === null) return;
      // A TCP connection has no status: WARN when the proxy flagged it (UF, UC, DC…), like a 5xx for HTTP.
      const severity = severityOf(record.flags.length > 0 ? null : 0);
      logger.emit({ timestamp: record.startTimeMs, ...severity, body: formatTcpLine(record), attributes: buildTcpAttributes(record) });
    },

    recordClusterEvent: (cluster, event) => store.recordClusterEvent(cluster, event),
    servePrometheus: (req, res) => metrics.servePrometheus(req, res),
    stats: () => collectStats(store),

    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      const flushed = Promise.all([provider.shutdown(), metrics.shutdown(), accessLog?.shutdown()].map((p) => Promise.resolve(p).catch(() => {})));
      await Promise.race([flushed, timeout]);
      clearTimeout(timer);
    },
  };
}

/** The context for children of `span`. */
export function contextWithSpan(parent: Context, span: Span): Context {
  return trace.setSpan(parent, span);
}
