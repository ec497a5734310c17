// The service graph against a real Postgres, from rollup rows inserted by SQL: nodes and edges in both views,
// inbound numbers per node, window bounds, the choice of rollup table, and rates over the observed window.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { RELATIVE_ERROR } from "../latency-histogram.ts";
import { findServiceGraph } from "./find-service-graph.ts";
import { insertRedRows, type Peer, type RedRowInput } from "./red-rows.fixture.ts";

const now = new Date("2026-03-01T12:00:00.000Z");
const at = (msBeforeNow: number, base = now) => new Date(base.getTime() - msBeforeNow);

const outside: Peer = { service: "unknown", namespace: "unknown", version: "unknown", workload: "unknown" };
const gateway = { service: "gateway" };
const frontend = { service: "frontend" };
const catalog = { service: "catalog-service" };
const orderV1 = { service: "order-service", version: "v1" };
const orderV2 = { service: "order-service", version: "v2" };
const cron = { service: "cron-job" };

/** Five minutes of a small shop ending at `now`, plus rows just outside the window that must not count. */
const shop: RedRowInput[] = [
  // Two days earlier: telemetry covers every window below in full.
  { at: at(2 * 86_400_000), source: { service: "archived-job" }, destination: { service: "archived-target" }, requests: 1 },
  { at: at(60_000), source: outside, destination: gateway, requests: 30, mtlsRequests: 0, latencyMs: 25 },
  { at: at(60_000), source: gateway, destination: frontend, requests: 27, latencyMs: 20 },
  { at: at(60_000), source: gateway, destination: frontend, responseClass: "5xx", requests: 3, latencyMs: 20 },
  { at: at(60_000), source: frontend, destination: orderV1, requests: 90, latencyMs: 50 },
  { at: at(60_000), source: frontend, destination: orderV2, requests: 9, mtlsRequests: 4, latencyMs: 200 },
  { at: at(60_000), source: frontend, destination: orderV2, responseClass: "5xx", requests: 1, mtlsRequests: 1, latencyMs: 200 },
  { at: at(60_000), source: frontend, destination: catalog, requests: 20 },
  { at: at(60_000), source: frontend, destination: catalog, protocol: "grpc", requests: 10 },
  { at: at(120_000), source: cron, destination: catalog, requests: 6 },
  // The window's first bucket counts; the bucket before it and the one starting at `now` do not.
  { at: at(300_000), source: frontend, destination: catalog, requests: 4 },
  { at: at(301_000), source: frontend, destination: { service: "retired-service" }, requests: 50 },
  { at: now, source: frontend, destination: catalog, requests: 5 },
];

function within(actual: number | null | undefined, expected: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected) / expected).toBeLessThanOrEqual(RELATIVE_ERROR);
}

describe("findServiceGraph", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertRedRows(test.db.pool, shop);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("has one node per service version by default, callers included, ids service.namespace@version", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now });
    expect(graph.nodes.map((n) => n.id)).toEqual([
      "catalog-service.default@v1",
      "cron-job.default@v1",
      "frontend.default@v1",
      "gateway.default@v1",
      "order-service.default@v1",
      "order-service.default@v2",
      "unknown.unknown@unknown",
    ]);
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    expect(byId.get("order-service.default@v2")).toMatchObject({ service: "order-service", namespace: "default", version: "v2" });
    expect(byId.get("order-service.default@v2")?.requestRate).toBeCloseTo(10 / 300, 10);
    expect(byId.get("order-service.default@v2")?.errorRate).toBeCloseTo(0.1, 10);
    within(byId.get("order-service.default@v2")?.p50Ms, 200);
    expect(byId.get("frontend.default@v1")?.errorRate).toBeCloseTo(3 / 30, 10);
    // 20 + 10 + 6 from the cron job + 4 in the window's first bucket.
    expect(byId.get("catalog-service.default@v1")?.requestRate).toBeCloseTo(40 / 300, 10);
    // Nodes that only call are drawn with nothing received.
    expect(byId.get("cron-job.default@v1")).toMatchObject({ requestRate: 0, errorRate: 0, p50Ms: null, p95Ms: null, p99Ms: null });
  });

  it("has one edge per caller → callee pair with rate, errors, percentiles, mTLS share and protocols", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now });
    expect(graph.edges.map((e) => [`${e.source}->${e.target}`, Math.round(e.requestRate * 300), Math.round(e.errorRate * e.requestRate * 300)])).toEqual([
      ["cron-job.default@v1->catalog-service.default@v1", 6, 0],
      ["frontend.default@v1->catalog-service.default@v1", 34, 0],
      ["frontend.default@v1->order-service.default@v1", 90, 0],
      ["frontend.default@v1->order-service.default@v2", 10, 1],
      ["gateway.default@v1->frontend.default@v1", 30, 3],
      ["unknown.unknown@unknown->gateway.default@v1", 30, 0],
    ]);
    const edge = (source: string, target: string) => graph.edges.find((e) => e.source.startsWith(source) && e.target.startsWith(target));
    expect(edge("frontend", "order-service.default@v2")?.mtlsShare).toBeCloseTo(0.5, 10);
    expect(edge("frontend", "order-service.default@v1")?.mtlsShare).toBe(1);
    expect(edge("unknown", "gateway")?.mtlsShare).toBe(0);
    expect(edge("frontend", "catalog")?.protocols).toEqual(["http", "grpc"]);
    expect(edge("gateway", "frontend")?.protocols).toEqual(["http"]);
    within(edge("frontend", "order-service.default@v1")?.p99Ms, 50);
    within(edge("gateway", "frontend")?.p95Ms, 20);
  });

  it("merges versions into one node per service in the service view, percentiles from the merged histograms", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now, view: "service" });
    expect(graph.nodes.map((n) => n.id)).toEqual([
      "catalog-service.default",
      "cron-job.default",
      "frontend.default",
      "gateway.default",
      "order-service.default",
      "unknown.unknown",
    ]);
    const order = graph.nodes.find((n) => n.id === "order-service.default");
    expect(order).toMatchObject({ service: "order-service", version: null });
    expect(order?.requestRate).toBeCloseTo(100 / 300, 10);
    expect(order?.errorRate).toBeCloseTo(1 / 100, 10);
    within(order?.p50Ms, 50); // 90 requests at 50 ms, 10 at 200 ms
    within(order?.p99Ms, 200);
    const edge = graph.edges.find((e) => e.target === "order-service.default");
    expect(edge).toMatchObject({ source: "frontend.default" });
    expect(edge?.mtlsShare).toBeCloseTo(95 / 100, 10);
  });

  it("reads explicit from/to", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, from: at(150_000), to: at(30_000), now });
    // [11:57:30, 11:59:30): the 11:58 cron calls and the 11:59 traffic, over 120 s.
    expect(graph.nodes.find((n) => n.id === "gateway.default@v1")?.requestRate).toBeCloseTo(30 / 120, 10);
    expect(graph.nodes.find((n) => n.id === "catalog-service.default@v1")?.requestRate).toBeCloseTo(36 / 120, 10);
  });

  it("counts an edge seen in part of the window over the whole window", async () => {
    // Over the last hour (the 1 min rollups), the five minutes of traffic are spread over 3600 s.
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 3600, now });
    const edge = graph.edges.find((e) => e.source === "gateway.default@v1");
    expect(edge?.requestRate).toBeCloseTo(30 / 3600, 10);
    expect(graph.nodes.some((n) => n.service === "retired-service")).toBe(true);
  });

  it("reads the 10 s rollups up to 5 minutes and the 1 min rollups beyond", async () => {
    const later = new Date(now.getTime() + 2 * 3_600_000);
    await insertRedRows(test.db.pool, [
      { at: at(60_000, later), source: { service: "probe-10s" }, destination: { service: "probe-target" }, requests: 1, tables: ["red_10s"] },
      { at: at(60_000, later), source: { service: "probe-1m" }, destination: { service: "probe-target" }, requests: 1, tables: ["red_1m"] },
    ]);
    const callers = async (windowSeconds: number) =>
      (await findServiceGraph({ pool: test.db.pool, windowSeconds, now: later })).edges.map((e) => e.source.split(".")[0]);
    expect(await callers(300)).toEqual(["probe-10s"]);
    expect(await callers(301)).toEqual(["probe-1m"]);
  });

  it("reads whole buckets for a window off the bucket bounds and divides by the time they cover", async () => {
    const bucketStart = new Date(now.getTime() + 3 * 3_600_000);
    const mid = new Date(bucketStart.getTime() + 5_000); // five seconds into the current bucket
    await insertRedRows(test.db.pool, [
      { at: at(300_000, bucketStart), source: { service: "edge-a" }, destination: { service: "edge-b" }, requests: 10 },
      { at: bucketStart, source: { service: "edge-a" }, destination: { service: "edge-b" }, requests: 5 },
    ]);
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now: mid });
    // [mid − 300 s, mid) widens to the buckets from bucketStart − 300 s; 305 s of them have elapsed.
    expect(graph.edges[0]?.requestRate).toBeCloseTo(15 / 305, 10);
  });

  it("keeps the edges into or out of a namespace when one is given", async () => {
    const later = new Date(now.getTime() + 4 * 3_600_000);
    const invoice = { service: "invoice", namespace: "billing" };
    await insertRedRows(test.db.pool, [
      { at: at(60_000, later), source: invoice, destination: orderV1, requests: 12 },
      { at: at(60_000, later), source: invoice, destination: { service: "ledger", namespace: "billing" }, requests: 6 },
      { at: at(60_000, later), source: frontend, destination: catalog, requests: 7 },
    ]);
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now: later, namespace: "billing", view: "service" });
    expect(graph.edges.map((e) => `${e.source}->${e.target}`)).toEqual(["invoice.billing->ledger.billing", "invoice.billing->order-service.default"]);
    expect(graph.nodes.map((n) => n.id)).toEqual(["invoice.billing", "ledger.billing", "order-service.default"]);
  });

  it("says what is wrong with a bad range", async () => {
    await expect(findServiceGraph({ pool: test.db.pool, windowSeconds: 300, from: at(60_000), now })).rejects.toThrow(
      "give either windowSeconds or from/to, not both",
    );
    await expect(findServiceGraph({ pool: test.db.pool, from: now, to: at(60_000), now })).rejects.toThrow(/from \(2026-03-01T12:00:00.000Z\) must be before to/);
  });
});

describe("findServiceGraph right after telemetry starts", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("divides by the observed part of the window, not the whole window", async () => {
    // The mesh has reported for 60 s at 2 rps; a five-minute window must say 2 rps, not 0.4.
    const rows = Array.from({ length: 6 }, (_, i) => ({ at: at(60_000 - i * 10_000), source: frontend, destination: catalog, requests: 20 }));
    await insertRedRows(test.db.pool, rows);
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now });
    expect(graph.edges[0]?.requestRate).toBeCloseTo(2, 10);
  });

  it("is empty when nothing was reported", async () => {
    expect(await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now: new Date("2020-01-01T00:00:00Z") })).toEqual({ nodes: [], edges: [] });
  });
});
