// Per-service RED metrics against a real Postgres seeded with a known shop's traffic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { insertSpans } from "../insert-spans.ts";
import { buildCall, buildServerSpan, buildShopTraffic } from "./call-spans.fixture.ts";
import { findServiceStats } from "./find-service-stats.ts";

const now = new Date("2026-03-01T12:00:00.000Z");

describe("findServiceStats", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertSpans(test.db.pool, buildShopTraffic(now));
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("lists every service seen in the window, sorted by name, including one that only made calls", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    expect(stats.map((s) => s.service)).toEqual([
      "catalog-service",
      "cron-job",
      "frontend",
      "gateway",
      "inventory-service",
      "order-service",
      "payment-service",
    ]);
    const cron = stats.find((s) => s.service === "cron-job");
    expect(cron).toEqual({
      service: "cron-job",
      namespace: "default",
      requestRate: 0,
      errorRate: 0,
      p50Ms: null,
      p99Ms: null,
      versions: [{ version: "v1", requestRate: 0, errorRate: 0 }],
    });
  });

  it("computes rates over the window from SERVER spans only", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    const byName = new Map(stats.map((s) => [s.service, s]));
    // gateway: 30 requests entered the mesh; its 30 CLIENT spans to frontend are not its own traffic.
    expect(byName.get("gateway")?.requestRate).toBeCloseTo(30 / 300, 10);
    expect(byName.get("gateway")?.errorRate).toBe(0);
    expect(byName.get("frontend")?.requestRate).toBeCloseTo(30 / 300, 10);
    expect(byName.get("frontend")?.errorRate).toBeCloseTo(3 / 30, 10);
    // catalog: 20 + the 404 + 6 from the cron job; the 404 was the caller's error, and the 5 future spans do not count.
    expect(byName.get("catalog-service")?.requestRate).toBeCloseTo(27 / 300, 10);
    expect(byName.get("catalog-service")?.errorRate).toBe(0);
    expect(byName.has("retired-service")).toBe(false);
  });

  it("splits rates by version", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    const order = stats.find((s) => s.service === "order-service");
    expect(order?.requestRate).toBeCloseTo(12 / 300, 10);
    expect(order?.errorRate).toBeCloseTo(1 / 12, 10);
    expect(order?.versions).toHaveLength(2);
    expect(order?.versions[0]?.version).toBe("v1");
    expect(order?.versions[0]?.requestRate).toBeCloseTo(9 / 300, 10);
    expect(order?.versions[0]?.errorRate).toBe(0);
    expect(order?.versions[1]?.version).toBe("v2");
    expect(order?.versions[1]?.requestRate).toBeCloseTo(3 / 300, 10);
    expect(order?.versions[1]?.errorRate).toBeCloseTo(1 / 3, 10);
  });

  it("reports latency percentiles in milliseconds", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    const payment = stats.find((s) => s.service === "payment-service");
    expect(payment?.p50Ms).toBeCloseTo(50, 6);
    expect(payment?.p99Ms).toBeCloseTo(89.2, 6);
  });

  it("uses the window it is given", async () => {
    // Ten minutes ago only the retired service's calls happened; a 30 s window just before now sees nothing.
    const narrow = await findServiceStats({ pool: test.db.pool, windowSeconds: 30, now });
    expect(narrow).toEqual([]);
    const wide = await findServiceStats({ pool: test.db.pool, windowSeconds: 900, now });
    expect(wide.find((s) => s.service === "retired-service")?.requestRate).toBeCloseTo(50 / 900, 10);
  });

  it("keeps a version-less service as one version null", async () => {
    const later = new Date(now.getTime() + 86_400_000);
    await insertSpans(test.db.pool, buildCall({ service: "legacy", version: null }, { service: "billing", version: null }, { at: new Date(later.getTime() - 1_000) }));
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 60, now: later });
    expect(stats.map((s) => [s.service, s.versions.map((v) => v.version)])).toEqual([
      ["billing", [null]],
      ["legacy", [null]],
    ]);
  });

  it("refuses a window that is not a positive number of seconds", async () => {
    await expect(findServiceStats({ pool: test.db.pool, windowSeconds: 0, now })).rejects.toThrow(/windowSeconds must be a positive number/);
  });
});

describe("findServiceStats right after telemetry starts", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("divides by the observed part of the window, not the whole window", async () => {
    // The mesh has reported for 60 s at 2 rps; a 5 minute window must say 2 rps, not 0.4.
    const now = new Date("2026-03-01T12:00:00.000Z");
    const spans = Array.from({ length: 120 }, (_, i) => buildServerSpan({ service: "frontend" }, { at: new Date(now.getTime() - 60_000 + i * 500) }));
    await insertSpans(test.db.pool, spans);
    const [frontend] = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    expect(frontend?.requestRate).toBeCloseTo(2, 10);
  });
});
