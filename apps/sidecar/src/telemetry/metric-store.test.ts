import { describe, expect, it } from "vitest";
import { ISTIO_BUCKETS, MAX_SERIES, createHistogram, createMetricStore, observe } from "./metric-store.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";

describe("observe", () => {
  it("counts a value equal to a boundary in that bucket (le), and beyond the last in +Inf", () => {
    const histogram = createHistogram();
    for (const value of [0, 0.5, 0.51, 1, 3600000, 3600001]) observe(histogram, value);
    expect(histogram.counts).toHaveLength(ISTIO_BUCKETS.length + 1);
    expect(histogram.counts.slice(0, 3)).toEqual([2, 2, 0]);
    expect(histogram.counts.at(-2)).toBe(1);
    expect(histogram.counts.at(-1)).toBe(1);
    expect(histogram).toMatchObject({ count: 6, sum: 7200003.01, min: 0, max: 3600001 });
  });
});

describe("createMetricStore", () => {
  it("aggregates requests with the same labels into one series", () => {
    const store = createMetricStore();
    store.recordRequest(makeRequestRecord({ durationMs: 3, responseBytes: 100 }));
    store.recordRequest(makeRequestRecord({ durationMs: 70, responseBytes: 2000, path: "/other" }));
    store.recordRequest(makeRequestRecord({ status: 503, flags: ["UF"] }));
    const series = [...store.requestSeries()];
    expect(series).toHaveLength(2);
    const ok = series.find((s) => s.labels.response_code === "200");
    expect(ok?.requests).toBe(2);
    expect(ok?.duration.sum).toBe(73);
    expect(ok?.responseBytes.max).toBe(2000);
    expect(series.find((s) => s.labels.response_code === "503")?.labels.response_flags).toBe("UF");
  });

  it("counts each request in its own series when consecutive requests alternate between series", () => {
    const store = createMetricStore();
    for (const status of [200, 200, 503, 200, 503, 503, 404, 200]) store.recordRequest(makeRequestRecord({ status }));
    const counts = Object.fromEntries([...store.requestSeries()].map((s) => [s.labels.response_code, s.requests]));
    expect(counts).toEqual({ "200": 4, "503": 3, "404": 1 });
  });

  it("keeps one series when records that key differently label the same (empty vs missing workload)", () => {
    const store = createMetricStore();
    store.recordRequest(makeRequestRecord({ destination: null }));
    store.recordRequest(makeRequestRecord({ destination: { workload: "", app: "", version: "", namespace: "" } }));
    expect([...store.requestSeries()].map((s) => s.requests)).toEqual([2]);
  });

  it("counts TCP connections and bytes, and cluster events", () => {
    const store = createMetricStore();
    store.recordTcp(makeTcpRecord());
    store.recordTcp(makeTcpRecord({ sentBytes: 5, receivedBytes: 7 }));
    store.recordClusterEvent("cart", "retry");
    store.recordClusterEvent("cart", "retry");
    store.recordClusterEvent("cart|v2", "overflow_pending");
    expect([...store.tcpSeries()]).toEqual([expect.objectContaining({ opened: 2, closed: 2, sent: 305, received: 127 })]);
    expect([...store.clusterSeries()]).toEqual([
      { cluster: "cart", event: "retry", count: 2 },
      { cluster: "cart|v2", event: "overflow_pending", count: 1 },
    ]);
  });

  it("stops making series at the limit and counts what it refused as dropped metrics", () => {
    const store = createMetricStore();
    for (let i = 0; i < MAX_SERIES + 3; i += 1) store.recordRequest(makeRequestRecord({ destinationService: `svc-${i}` }));
    expect([...store.requestSeries()]).toHaveLength(MAX_SERIES);
    expect(store.dropped().get("metrics|series_limit")).toBe(3);
  });
});
