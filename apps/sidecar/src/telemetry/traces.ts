// Spans with the official OpenTelemetry SDK: one provider per sidecar (not the global one, so several sidecars can
// share a process in tests), parent-based ratio sampling, and batched OTLP/HTTP protobuf export behind a queue
// whose drops are counted; the exporter encodes with @trellis/otlp's hand-written encoder (otlp-exporters.ts). Trace context: W3C traceparent/tracestate or B3 (single or multi header) accepted,
// W3C written, as Istio does with B3-speaking apps.
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, type Context } from "@opentelemetry/api";
import { CompositePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { B3Propagator } from "@opentelemetry/propagator-b3";
import type { Resource } from "@opentelemetry/resources";
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { countSpanExports, createQueueGauge, guardSpanProcessor, type OnDrop } from "./drop-counting.ts";
import { createSpanExporter } from "./otlp-exporters.ts";

export const SPAN_QUEUE_SIZE = 8_192;
/** Spans per export: a batch encodes in well under a millisecond, so no export holds the event loop for long. */
export const SPAN_BATCH_SIZE = 256;
/** The sidecar's one tracer. */
export const TRACER_NAME = "@trellis/sidecar";

const w3c = new W3CTraceContextPropagator();
// Later propagators win when several find a context: W3C last, so it is preferred when both kinds are present.
const accepted = new CompositePropagator({ propagators: [new B3Propagator(), w3c] });

/** The trace context the caller sent, W3C or B3 (or an empty one, which starts a new trace). */
export function extractContext(headers: IncomingHttpHeaders): Context {
  return accepted.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

export function injectContext(context: Context, headers: OutgoingHttpHeaders): void {
  w3c.inject(context, headers, defaultTextMapSetter);
}

export function createTracerProvider({
  resource,
  otlpEndpoint,
  otlpHeaders,
  samplingRatio,
  spanProcessors,
  onDrop,
  queueSize = SPAN_QUEUE_SIZE,
}: {
  resource: Resource;
  otlpEndpoint: string;
  otlpHeaders: Record<string, string>;
  samplingRatio: number;
  spanProcessors: SpanProcessor[];
  onDrop: OnDrop;
  queueSize?: number;
}): TracerProvider {
  const gauge = createQueueGauge(queueSize, onDrop);
  const exporter = countSpanExports(createSpanExporter({ url: `${otlpEndpoint}/v1/traces`, headers: otlpHeaders, resource, scopeName: TRACER_NAME }), gauge, onDrop);
  // One-second batches keep the dashboard close to live.
  const batch = new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: queueSize, maxExportBatchSize: SPAN_BATCH_SIZE });
  return new TracerProvider({
    resource,
    // A caller's sampling decision is kept; traces started here are sampled at the configured ratio.
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplingRatio) }),
    spanProcessors: [guardSpanProcessor(batch, gauge), ...spanProcessors],
  });
}
