// One MeterProvider, two readers over the same pre-aggregated series: a periodic OTLP/HTTP protobuf export
// (cumulative, like Prometheus) and the Prometheus text served at GET /stats/prometheus on the admin port.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExportResult } from "@opentelemetry/core";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import type { Resource } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { createMetricProducer } from "./metric-producer.ts";
import type { MetricStore } from "./metric-store.ts";

export type MetricsExport = {
  /** Answers a scrape with the Prometheus text exposition. */
  servePrometheus: (req: IncomingMessage, res: ServerResponse) => void;
  shutdown: () => Promise<void>;
};

/** Counts a failed push as one dropped metrics export (its points are sent again, cumulatively, next time). */
function countFailures(exporter: PushMetricExporter, store: MetricStore): PushMetricExporter {
  return {
    export(metrics: ResourceMetrics, done: (result: ExportResult) => void) {
      exporter.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) store.countDropped("metrics", "export_failed", 1);
        done(result);
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
  };
}

export function createMetricsExport({
  resource,
  otlpEndpoint,
  otlpHeaders,
  intervalMs,
  store,
}: {
  resource: Resource;
  otlpEndpoint: string;
  otlpHeaders: Record<string, string>;
  intervalMs: number;
  store: MetricStore;
}): MetricsExport {
  const producer = createMetricProducer(store);
  // The OTLP exporter defaults to cumulative temporality, which is what Prometheus-style consumers expect.
  const otlp = countFailures(new OTLPMetricExporter({ url: `${otlpEndpoint}/v1/metrics`, headers: otlpHeaders }), store);
  const periodic = new PeriodicExportingMetricReader({
    exporter: otlp,
    exportIntervalMillis: intervalMs,
    exportTimeoutMillis: Math.min(intervalMs, 10_000),
    metricProducers: [producer],
  });
  // No server of its own: the admin endpoint routes GET /stats/prometheus here.
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [producer] });
  const provider = new MeterProvider({ resource, readers: [periodic, prometheus] });
  return {
    servePrometheus: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    shutdown: () => provider.shutdown(),
  };
}
