// The pre-aggregated series of metric-store.ts as the metrics the sidecar exports: Istio's names, units and
// descriptions, each series' labels and running totals. Built when a push or a scrape needs them; both the OTLP
// encoder (metrics-export.ts) and the Prometheus text (prometheus-text.ts) read this one list.
import type { EncodableMetric, HistogramPoint, SumPoint } from "@trellis/otlp/encode";
import { ISTIO_BUCKETS, type HistogramState, type MetricStore } from "./metric-store.ts";
import type { MetricLabels } from "./labels.ts";

/** The instrumentation scope of every exported metric. */
export const METRICS_SCOPE = "@trellis/sidecar/istio";

const counter = (name: string, description: string, unit: string, points: SumPoint[]): EncodableMetric => ({ kind: "sum", name, description, unit, points });

const histogram = (name: string, description: string, unit: string, points: HistogramPoint[]): EncodableMetric => ({ kind: "histogram", name, description, unit, bounds: ISTIO_BUCKETS, points });

// The live state is read as is: a push encodes and a scrape formats synchronously, so nothing counts meanwhile.
const histogramPoint = (attributes: MetricLabels, state: HistogramState): HistogramPoint => ({ attributes, ...state });

/** The store's series as cumulative metrics; metrics with no series yet are left out (OTLP and Prometheus have no use for them). */
export function collectMetrics(store: MetricStore): EncodableMetric[] {
  const requests = [...store.requestSeries()];
  const tcp = [...store.tcpSeries()];
  const metrics: EncodableMetric[] = [
    counter("istio_requests_total", "Requests, by Istio's standard labels", "", requests.map((s) => ({ attributes: s.labels, value: s.requests }))),
    histogram("istio_request_duration_milliseconds", "Request duration", "ms", requests.map((s) => histogramPoint(s.labels, s.duration))),
    histogram("istio_request_bytes", "Request body size", "By", requests.map((s) => histogramPoint(s.labels, s.requestBytes))),
    histogram("istio_response_bytes", "Response body size", "By", requests.map((s) => histogramPoint(s.labels, s.responseBytes))),
    counter("istio_tcp_sent_bytes_total", "Bytes sent downstream on TCP connections", "By", tcp.map((s) => ({ attributes: s.labels, value: s.sent }))),
    counter("istio_tcp_received_bytes_total", "Bytes received from downstream on TCP connections", "By", tcp.map((s) => ({ attributes: s.labels, value: s.received }))),
    counter("istio_tcp_connections_opened_total", "TCP connections opened", "", tcp.map((s) => ({ attributes: s.labels, value: s.opened }))),
    counter("istio_tcp_connections_closed_total", "TCP connections closed", "", tcp.map((s) => ({ attributes: s.labels, value: s.closed }))),
    counter(
      "trellis_upstream_events_total",
      "Resilience events per cluster (retries, overflows, ejections), Envoy's cluster.<name>.upstream_rq_* counters",
      "",
      [...store.clusterSeries()].map((s) => ({ attributes: { cluster_name: s.cluster, event: s.event }, value: s.count })),
    ),
    counter(
      "trellis_telemetry_dropped_total",
      "Telemetry lost instead of slowing requests: spans/logs (queue full or export failed), metrics (failed exports, series over the limit)",
      "",
      [...store.dropped()].map(([key, count]) => {
        const [signal = "", reason = ""] = key.split("|");
        return { attributes: { signal, reason }, value: count };
      }),
    ),
  ];
  return metrics.filter((metric) => metric.points.length > 0);
}
