// The service graph against a real Postgres: nodes per version, edges from CLIENT→SERVER span pairs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { insertSpans } from "../insert-spans.ts";
import { buildCall, buildShopTraffic } from "./call-spans.fixture.ts";
import { findServiceGraph, toNodeId } from "./find-service-graph.ts";

const now = new Date("2026-03-01T12:00:00.000Z");

describe("findServiceGraph", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertSpans(test.db.pool, buildShopTraffic(now));
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("has one node per service version with traffic in the window, ids service@version", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now });
    expect(graph.nodes.map((n) => n.id)).toEqual([
      "catalog-service@v1",
      "cron-job@v1",
      "frontend@v1",
      "gateway@v1",
      "inventory-service@v1",
      "order-service@v1",
      "order-service@v2",
      "payment-service@v1",
    ]);
    const orderV2 = graph.nodes.find((n) => n.id === "order-service@v2");
    expect(orderV2).toMatchObject({ service: "order-service", version: "v2", namespace: "default" });
    expect(orderV2?.requestRate).toBeCloseTo(3 / 300, 10);
    expect(orderV2?.errorRate).toBeCloseTo(1 / 3, 10);
    // The cron job only called: it is drawn, with nothing received.
    expect(graph.nodes.find((n) => n.id === "cron-job@v1")).toMatchObject({ requestRate: 0, errorRate: 0 });
  });

  it("has one edge per caller → callee pair, with the caller's view of rate, errors and latency", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 300, now });
    const summary = graph.edges.map((e) => ({
      edge: `${e.source}->${e.target}`,
      requests: Math.round(e.requestRate * 300),
      errors: Math.round(e.errorRate * e.requestRate * 300),
    }));
    expect(summary).toEqual([
      { edge: "cron-job@v1->catalog-service@v1", requests: 6, errors: 0 },
      // The 404 is the caller's mistake, not a failure of the edge.
      { edge: "frontend@v1->catalog-service@v1", requests: 21, errors: 0 },
      { edge: "frontend@v1->order-service@v1", requests: 9, errors: 0 },
      { edge: "frontend@v1->order-service@v2", requests: 3, errors: 1 },
      { edge: "gateway@v1->frontend@v1", requests: 30, errors: 3 },
      { edge: "order-service@v1->payment-service@v1", requests: 9, errors: 0 },
      // A timeout: the callee answered, the caller gave up.
      { edge: "order-service@v2->inventory-service@v1", requests: 1, errors: 1 },
    ]);
    const payment = graph.edges.find((e) => e.target === "payment-service@v1");
    expect(payment?.p50Ms).toBeCloseTo(50, 6);
  });

  it("joins only within a trace and only CLIENT → SERVER", async () => {
    const later = new Date(now.getTime() + 86_400_000);
    const at = new Date(later.getTime() - 1_000);
    const [client, server] = buildCall({ service: "a" }, { service: "b" }, { at });
    // Same parent span id in another trace: must not be joined to a's client span.
    const [, stray] = buildCall({ service: "x" }, { service: "c" }, { at });
    stray.parentSpanId = client.spanId;
    await insertSpans(test.db.pool, [client, server, stray]);
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 60, now: later });
    expect(graph.edges.map((e) => `${e.source}->${e.target}`)).toEqual(["a@v1->b@v1"]);
    expect(graph.nodes.map((n) => n.id)).toEqual(["a@v1", "b@v1", "c@v1"]);
  });

  it("is empty when nothing happened in the window", async () => {
    const graph = await findServiceGraph({ pool: test.db.pool, windowSeconds: 10, now: new Date(now.getTime() - 3_600_000) });
    expect(graph).toEqual({ nodes: [], edges: [] });
  });

  it("names a version-less workload by its service alone", () => {
    expect(toNodeId("legacy", null)).toBe("legacy");
    expect(toNodeId("order-service", "v2")).toBe("order-service@v2");
  });
});
