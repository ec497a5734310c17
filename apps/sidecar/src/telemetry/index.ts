// Spans for every proxied request, with the official OpenTelemetry SDK: one provider per sidecar (not the global
// one, so several sidecars can share a process in tests), batched OTLP/HTTP protobuf export in the background so
// a slow or absent collector never delays a request, and W3C trace context in and out.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { isErrorStatus, type ResponseFlag } from "../response-flags.ts";
import type { ClusterEvent, RequestRecord, TcpRecord } from "./records.ts";

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

export type HttpSpanEnd = { status: number | null; flag: ResponseFlag | null };

export type Telemetry = {
  /** The trace context the caller sent (or an empty one, which starts a new trace). */
  extract: (headers: IncomingHttpHeaders) => Context;
  /** Writes traceparent (and tracestate) for the span in `context` into outgoing headers. */
  inject: (context: Context, headers: OutgoingHttpHeaders) => void;
  startHttpSpan: (start: HttpSpanStart) => Span;
  endHttpSpan: (span: Span, end: HttpSpanEnd) => void;
  /** One finished HTTP/gRPC request: Istio metrics and the access-log record (issue 4, telemetry helper). */
  recordRequest: (record: RequestRecord) => void;
  /** One finished TCP connection (plain TCP pass-through, WebSocket after the upgrade). */
  recordTcp: (record: TcpRecord) => void;
  /** A resilience event on a cluster (retry, overflow, ejection, …). */
  recordClusterEvent: (cluster: string, event: ClusterEvent) => void;
  /** Flushes queued spans, waiting at most `timeoutMs`. */
  shutdown: (timeoutMs: number) => Promise<void>;
};

const propagator = new W3CTraceContextPropagator();

export function createTelemetry({
  identity,
  otlpEndpoint,
  spanProcessors = [],
}: {
  identity: TelemetryIdentity;
  otlpEndpoint: string;
  spanProcessors?: SpanProcessor[];
}): Telemetry {
  const resource = defaultResource().merge(
    resourceFromAttributes({
      "service.name": identity.service,
      "service.namespace": identity.namespace,
      "service.version": identity.version,
      "service.instance.id": identity.workload,
    }),
  );
  const exporter = new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/+$/, "")}/v1/traces` });
  // A full queue drops spans rather than blocking; one-second batches keep the dashboard close to live.
  const batch = new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 8_192, maxExportBatchSize: 512 });
  const provider = new TracerProvider({ resource, spanProcessors: [batch, ...spanProcessors] });
  const tracer = provider.getTracer("@trellis/sidecar");

  return {
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    inject: (context, headers) => propagator.inject(context, headers, defaultTextMapSetter),

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

    endHttpSpan(span, { status, flag }) {
      if (status !== null) span.setAttribute("http.response.status_code", status);
      if (flag !== null) span.setAttribute("trellis.response_flags", flag);
      if (isErrorStatus(status)) {
        span.setAttribute("error.type", flag ?? (status === null ? "no_response" : String(status)));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },

    // Wired to metrics and access logs by the telemetry work of issue 4 (in progress).
    recordRequest: () => {},
    recordTcp: () => {},
    recordClusterEvent: () => {},

    async shutdown(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([provider.shutdown().catch(() => {}), timeout]);
      clearTimeout(timer);
    },
  };
}

/** The context for children of `span`. */
export function contextWithSpan(parent: Context, span: Span): Context {
  return trace.setSpan(parent, span);
}
