import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { describe, expect, it } from "vitest";
import { collectMetrics } from "./metric-producer.ts";
import { createMetricStore } from "./metric-store.ts";
import { collectStats, formatStatsText } from "./stats-text.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";

function fillStore() {
  const store = createMetricStore(() => 1_000);
  store.recordRequest(makeRequestRecord({ durationMs: 3 }));
  store.recordRequest(makeRequestRecord({ durationMs: 30 }));
  store.recordRequest(makeRequestRecord({ reporter: "destination", status: 503, flags: ["UF", "URX"] }));
  store.recordTcp(makeTcpRecord());
  store.recordClusterEvent("cart", "retry");
  store.countDropped("spans", "queue_full", 4);
  return store;
}

describe("collectMetrics", () => {
  it("serialises to Prometheus text with Istio's names, labels and buckets", () => {
    const text = new PrometheusSerializer(undefined, false, undefined, true, true).serialize({
      resource: resourceFromAttributes({}),
      scopeMetrics: [{ scope: { name: "test" }, metrics: collectMetrics(fillStore(), 2_000) }],
    });
    expect(text).toContain("# TYPE istio_requests_total counter");
    expect(text).toMatch(/istio_requests_total\{reporter="source",source_workload="checkout-v1-15000",.*response_code="200",grpc_response_status="",response_flags="-"\} 2/);
    expect(text).toMatch(/istio_requests_total\{reporter="destination",.*response_code="503",.*response_flags="UF,URX"\} 1/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="5"\} 1/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="50"\} 2/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="\+Inf"\} 2/);
    expect(text).toMatch(/istio_response_bytes_bucket\{.*le="3600000"\} /);
    expect(text).toMatch(/istio_tcp_connections_opened_total\{reporter="destination",.*request_protocol="tcp".*\} 1/);
    expect(text).toMatch(/istio_tcp_sent_bytes_total\{.*\} 300/);
    expect(text).toContain('trellis_upstream_events_total{cluster_name="cart",event="retry"} 1');
    expect(text).toContain('trellis_telemetry_dropped_total{signal="spans",reason="queue_full"} 4');
  });

  it("leaves out metrics that have no series yet", () => {
    expect(collectMetrics(createMetricStore(), 1).map((m) => m.descriptor.name)).toEqual([]);
  });
});

describe("collectStats", () => {
  it("prints Envoy-style counters, sorted", () => {
    expect(formatStatsText(collectStats(fillStore()))).toBe(
      [
        "cluster.cart.upstream_rq_retry: 1",
        "http.inbound.downstream_rq_5xx: 1",
        "http.inbound.downstream_rq_total: 1",
        "http.inbound.response_flags.UF: 1",
        "http.inbound.response_flags.URX: 1",
        "http.outbound.downstream_rq_2xx: 2",
        "http.outbound.downstream_rq_total: 2",
        "tcp.inbound.downstream_cx_rx_bytes_total: 120",
        "tcp.inbound.downstream_cx_total: 1",
        "tcp.inbound.downstream_cx_tx_bytes_total: 300",
        "telemetry.logs.dropped: 0",
        "telemetry.metrics.dropped: 0",
        "telemetry.spans.dropped: 4",
        "telemetry.spans.dropped.queue_full: 4",
        "",
      ].join("\n"),
    );
  });
});
