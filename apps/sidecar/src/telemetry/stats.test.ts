// The metrics the sidecar exports, read from the store: Istio's names, labels and buckets as Prometheus text, which
// must be what the OpenTelemetry PrometheusExporter printed for the same store before (its serializer is the oracle),
// and the Envoy-style counters of GET /stats.
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { describe, expect, it } from "vitest";
import { buildResourceAttributes } from "./index.ts";
import { collectMetrics } from "./metric-producer.ts";
import { createMetricStore, MAX_SERIES } from "./metric-store.ts";
import { formatPrometheusText } from "./prometheus-text.ts";
import { collectStats, formatStatsText } from "./stats-text.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";
import { collectSdkResourceMetrics } from "./testing-sdk-metrics.ts";

const identity = { service: "checkout", namespace: "shop", version: "v1", workload: "checkout-v1-15000" };
const resource = buildResourceAttributes(identity);

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

/** The old exporter's text: PrometheusExporter({ withoutScopeInfo: true }) serialising the old producer's data. */
function formatAsSdk(store: ReturnType<typeof createMetricStore>): string {
  return new PrometheusSerializer(undefined, false, undefined, false, true).serialize(collectSdkResourceMetrics(store, 2_000, resource));
}

describe("formatPrometheusText", () => {
  it("prints Istio's names, labels and buckets", () => {
    const text = formatPrometheusText(resource, collectMetrics(fillStore()));
    expect(text).toContain('target_info{service_name="checkout",service_namespace="shop",service_version="v1",service_instance_id="checkout-v1-15000",telemetry_sdk_language="nodejs",telemetry_sdk_name="trellis-sidecar"} 1\n');
    expect(text).toContain("# TYPE istio_requests_total counter");
    expect(text).toMatch(/istio_requests_total\{reporter="source",source_workload="checkout-v1-15000",.*response_code="200",grpc_response_status="",response_flags="-"\} 2/);
    expect(text).toMatch(/istio_requests_total\{reporter="destination",.*response_code="503",.*response_flags="UF,URX"\} 1/);
    expect(text).toContain("# UNIT istio_request_duration_milliseconds ms\n# TYPE istio_request_duration_milliseconds histogram\n");
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="1"\} 0/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="5"\} 1/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="50"\} 2/);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{reporter="source",.*le="\+Inf"\} 2/);
    expect(text).toMatch(/istio_request_duration_milliseconds_sum\{reporter="source",.*\} 33\n/);
    expect(text).toMatch(/istio_request_duration_milliseconds_count\{reporter="source",.*\} 2\n/);
    expect(text).toMatch(/istio_response_bytes_bucket\{.*le="3600000"\} /);
    expect(text).toMatch(/istio_tcp_connections_opened_total\{reporter="destination",.*request_protocol="tcp".*\} 1/);
    expect(text).toMatch(/istio_tcp_sent_bytes_total\{.*\} 300/);
    expect(text).toContain('trellis_upstream_events_total{cluster_name="cart",event="retry"} 1\n');
    expect(text).toContain('trellis_telemetry_dropped_total{signal="spans",reason="queue_full"} 4\n');
    expect(text.endsWith("\n")).toBe(true);
  });

  it("prints, line for line, what the OpenTelemetry PrometheusExporter printed for the same store", () => {
    const store = fillStore();
    // Label values that need escaping, and a few hundred series.
    store.recordRequest(makeRequestRecord({ destinationService: 'we"ird\\svc\nline', path: "/x" }));
    for (let i = 0; i < 300; i += 1) store.recordRequest(makeRequestRecord({ destinationService: `svc-${i}`, durationMs: i * 1.5, responseBytes: i * 1000 }));
    store.recordTcp(makeTcpRecord({ sentBytes: 2 ** 40 }));
    store.recordClusterEvent("cart|v2", "outlier_ejected");
    store.countDropped("metrics", "export_failed", 1);
    const text = formatPrometheusText(resource, collectMetrics(store));
    expect(text).toContain('destination_service_name="we\\"ird\\\\svc\\nline"');
    expect(text).toBe(formatAsSdk(store));
  });

  it("prints only target_info for an empty store (the SDK added a comment without the final line feed 0.0.4 asks for)", () => {
    const store = createMetricStore(() => 1_000);
    expect(collectMetrics(store)).toEqual([]);
    const text = formatPrometheusText(resource, []);
    expect(text).toBe(formatAsSdk(store).replace("# no registered metrics", ""));
  });

  it("escapes label values and help text, and names counters with _total", () => {
    const text = formatPrometheusText({ "weird.key-name": 'a"b\\c\nd', count: 3 as unknown as string }, [
      { kind: "sum", name: "requests", description: "line one\nline two \\ done", unit: "", points: [{ attributes: {}, value: 1 }] },
    ]);
    expect(text).toBe(
      [
        "# HELP target_info Target metadata",
        "# TYPE target_info gauge",
        'target_info{weird_key_name="a\\"b\\\\c\\nd",count="3"} 1',
        "# HELP requests_total line one\\nline two \\\\ done",
        "# TYPE requests_total counter",
        "requests_total 1",
        "",
      ].join("\n"),
    );
  });
});

describe("buildResourceAttributes", () => {
  it("keeps what defaultResource() gave except the SDK it names: the sidecar's encoders, with no SDK version", () => {
    const old = defaultResource().merge(
      resourceFromAttributes({ "service.name": "checkout", "service.namespace": "shop", "service.version": "v1", "service.instance.id": "checkout-v1-15000" }),
    ).attributes;
    const { "telemetry.sdk.name": oldSdk, "telemetry.sdk.version": oldVersion, ...kept } = old;
    expect([oldSdk, typeof oldVersion]).toEqual(["opentelemetry", "string"]);
    expect(resource).toEqual({ ...kept, "telemetry.sdk.name": "trellis-sidecar" });
  });
});

describe("collectMetrics", () => {
  it("leaves out metrics that have no series yet", () => {
    expect(collectMetrics(createMetricStore()).map((m) => m.name)).toEqual([]);
  });

  it("gives every histogram point the shared Istio bounds and one more count", () => {
    const store = createMetricStore();
    for (let i = 0; i < 3; i += 1) store.recordRequest(makeRequestRecord({ destinationService: `svc-${i}` }));
    const metrics = collectMetrics(store);
    expect(metrics.map((m) => [m.name, m.kind, m.points.length])).toEqual([
      ["istio_requests_total", "sum", 3],
      ["istio_request_duration_milliseconds", "histogram", 3],
      ["istio_request_bytes", "histogram", 3],
      ["istio_response_bytes", "histogram", 3],
    ]);
    expect(MAX_SERIES).toBeGreaterThan(3);
  });
});

describe("collectStats", () => {
  it("prints Envoy-style counters and memory gauges, sorted", () => {
    expect(formatStatsText(collectStats(fillStore(), { rss: 52_428_800, heapTotal: 20_971_520, heapUsed: 13_631_488 }))).toBe(
      [
        "cluster.cart.upstream_rq_retry: 1",
        "http.inbound.downstream_rq_5xx: 1",
        "http.inbound.downstream_rq_total: 1",
        "http.inbound.response_flags.UF: 1",
        "http.inbound.response_flags.URX: 1",
        "http.outbound.downstream_rq_2xx: 2",
        "http.outbound.downstream_rq_total: 2",
        "server.memory_allocated: 13631488",
        "server.memory_heap_size: 20971520",
        "server.memory_physical_size: 52428800",
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
