// The services table against a real Postgres, from rollup rows inserted by SQL: inbound RED numbers per service
// and per version, services that only call, and the namespace filter.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { RELATIVE_ERROR } from "../latency-histogram.ts";
import { findServiceStats } from "./find-service-stats.ts";
import { insertRedRows } from "./red-rows.fixture.ts";

const now = new Date("2026-03-01T12:00:00.000Z");
const at = (msBeforeNow: number) => new Date(now.getTime() - msBeforeNow);
const frontend = { service: "frontend" };
const orderV1 = { service: "order-service", version: "v1" };
const orderV2 = { service: "order-service", version: "v2" };

describe("findServiceStats", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertRedRows(test.db.pool, [
      { at: at(86_400_000), source: frontend, destination: orderV1, requests: 1 },
      { at: at(60_000), source: { service: "unknown", namespace: "unknown", version: "unknown" }, destination: frontend, requests: 12 },
      { at: at(60_000), source: frontend, destination: orderV1, requests: 9, latencyMs: 50 },
      { at: at(60_000), source: frontend, destination: orderV2, requests: 2, latencyMs: 80 },
      { at: at(60_000), source: frontend, destination: orderV2, responseClass: "5xx", requests: 1, latencyMs: 80 },
      { at: at(60_000), source: { service: "order-service", version: "v2" }, destination: { service: "payment", namespace: "billing" }, requests: 3 },
      { at: at(30_000), source: { service: "cron-job" }, destination: orderV1, requests: 3, latencyMs: 50 },
    ]);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("lists every service that received or made calls, callers from outside the mesh left out", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    expect(stats.map((s) => `${s.namespace}/${s.service}`)).toEqual(["default/cron-job", "default/frontend", "default/order-service", "billing/payment"]);
  });

  it("shows what a service nothing calls sent (a gateway, a job), and what a called service received", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    const cron = stats.find((s) => s.service === "cron-job");
    expect(cron?.requestRate).toBeCloseTo(3 / 300, 10);
    expect(cron?.versions.map((v) => [v.version, v.requestRate * 300])).toEqual([["v1", 3]]);
    // frontend both receives (12 from outside) and calls (12 to order-service): its row is what it received.
    expect(stats.find((s) => s.service === "frontend")?.requestRate).toBeCloseTo(12 / 300, 10);
  });

  it("gives inbound rate, error rate and percentiles per service and per version", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now });
    const order = stats.find((s) => s.service === "order-service");
    expect(order?.requestRate).toBeCloseTo(15 / 300, 10);
    expect(order?.errorRate).toBeCloseTo(1 / 15, 10);
    expect(Math.abs((order?.p50Ms ?? 0) - 50) / 50).toBeLessThanOrEqual(RELATIVE_ERROR);
    expect(Math.abs((order?.p99Ms ?? 0) - 80) / 80).toBeLessThanOrEqual(RELATIVE_ERROR);
    expect(order?.versions.map((v) => [v.version, v.requestRate * 300, v.errorRate])).toEqual([
      ["v1", 12, 0],
      ["v2", 3, 1 / 3],
    ]);
  });

  it("keeps to one namespace when asked", async () => {
    const stats = await findServiceStats({ pool: test.db.pool, windowSeconds: 300, now, namespace: "billing" });
    expect(stats.map((s) => s.service)).toEqual(["payment"]);
    expect(stats[0]?.requestRate).toBeCloseTo(3 / 300, 10);
  });

  it("is empty for a range without traffic", async () => {
    expect(await findServiceStats({ pool: test.db.pool, from: at(7_200_000), to: at(3_600_000), now })).toEqual([]);
  });
});
