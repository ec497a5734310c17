// Test oracle: the metrics path this sidecar had before it dropped the OpenTelemetry SDK, kept verbatim — the store's
// series as the SDK's cumulative MetricData (the old MetricProducer). Tests feed it to the SDK's own
// PrometheusSerializer and OTLPMetricExporter and compare with what the sidecar now writes itself.
import { ValueType, type Attributes, type HrTime } from "@opentelemetry/api";
import { millisToHrTime } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { ISTIO_BUCKETS, type HistogramState, type MetricStore } from "./metric-store.ts";

type Point<T> = { startTime: HrTime; endTime: HrTime; attributes: Attributes; value: T };

function sum(name: string, description: string, unit: string, dataPoints: Point<number>[]): MetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints,
  };
}

function histogram(name: string, description: string, unit: string, dataPoints: Point<HistogramState>[]): MetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: dataPoints.map((point) => ({
      ...point,
      value: {
        buckets: { boundaries: ISTIO_BUCKETS as number[], counts: point.value.counts.slice() },
        sum: point.value.sum,
        count: point.value.count,
        ...(point.value.count > 0 ? { min: point.value.min, max: point.value.max } : {}),
      },
    })),
  };
}

function collectSdkMetrics(store: MetricStore, nowMs: number): MetricData[] {
  const startTime = millisToHrTime(store.startTimeMs);
  const endTime = millisToHrTime(nowMs);
  const at = <T>(attributes: Attributes, value: T): Point<T> => ({ startTime, endTime, attributes, value });
  const requests = [...store.requestSeries()];
  const tcp = [...store.tcpSeries()];
  const metrics: MetricData[] = [
    sum("istio_requests_total", "Requests, by Istio's standard labels", "", requests.map((s) => at(s.labels, s.requests))),
    histogram("istio_request_duration_milliseconds", "Request duration", "ms", requests.map((s) => at(s.labels, s.duration))),
    histogram("istio_request_bytes", "Request body size", "By", requests.map((s) => at(s.labels, s.requestBytes))),
    histogram("istio_response_bytes", "Response body size", "By", requests.map((s) => at(s.labels, s.responseBytes))),
    sum("istio_tcp_sent_bytes_total", "Bytes sent downstream on TCP connections", "By", tcp.map((s) => at(s.labels, s.sent))),
    sum("istio_tcp_received_bytes_total", "Bytes received from downstream on TCP connections", "By", tcp.map((s) => at(s.labels, s.received))),
    sum("istio_tcp_connections_opened_total", "TCP connections opened", "", tcp.map((s) => at(s.labels, s.opened))),
    sum("istio_tcp_connections_closed_total", "TCP connections closed", "", tcp.map((s) => at(s.labels, s.closed))),
    sum(
      "trellis_upstream_events_total",
      "Resilience events per cluster (retries, overflows, ejections), Envoy's cluster.<name>.upstream_rq_* counters",
      "",
      [...store.clusterSeries()].map((s) => at({ cluster_name: s.cluster, event: s.event }, s.count)),
    ),
    sum(
      "trellis_telemetry_dropped_total",
      "Telemetry lost instead of slowing requests: spans/logs (queue full or export failed), metrics (failed exports, series over the limit)",
      "",
      [...store.dropped()].map(([key, count]) => {
        const [signal = "", reason = ""] = key.split("|");
        return at({ signal, reason }, count);
      }),
    ),
  ];
  return metrics.filter((metric) => metric.dataPoints.length > 0);
}

/** What the old MeterProvider's readers collected at `nowMs`: one resource (given, so both sides share it), the producer's one scope. */
export function collectSdkResourceMetrics(store: MetricStore, nowMs: number, resourceAttributes: Attributes): ResourceMetrics {
  return {
    resource: resourceFromAttributes(resourceAttributes),
    scopeMetrics: [{ scope: { name: "@trellis/sidecar/istio" }, metrics: collectSdkMetrics(store, nowMs) }],
  };
}
