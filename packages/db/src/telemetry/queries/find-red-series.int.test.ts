// RED time series against a real Postgres, from rollup rows inserted by SQL: one point per step with empty steps
// as zeros, the three kinds of target, the 1 min rollups for steps of a minute or more, and bad steps.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { RELATIVE_ERROR } from "../latency-histogram.ts";
import { findRedSeries } from "./find-red-series.ts";
import { insertRedRows } from "./red-rows.fixture.ts";

const now = new Date("2026-03-01T12:00:00.000Z");
const at = (msBeforeNow: number) => new Date(now.getTime() - msBeforeNow);
const frontend = { service: "frontend" };
const orderV1 = { service: "order-service", version: "v1" };
const orderV2 = { service: "order-service", version: "v2" };

describe("findRedSeries", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertRedRows(test.db.pool, [
      { at: at(55_000), source: frontend, destination: orderV1, requests: 10, latencyMs: 40 },
      { at: at(55_000), source: frontend, destination: orderV2, responseClass: "5xx", requests: 10, latencyMs: 400 },
      { at: at(25_000), source: frontend, destination: orderV1, requests: 30, latencyMs: 40 },
      { at: at(25_000), source: { service: "cron-job" }, destination: orderV1, requests: 20, latencyMs: 40 },
      { at: at(5 * 60_000), source: frontend, destination: orderV1, requests: 60, latencyMs: 40 },
    ]);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("has one point per step over the window, steps without traffic at zero", async () => {
    const series = await findRedSeries({ pool: test.db.pool, target: { kind: "service", service: "order-service" }, windowSeconds: 60, stepSeconds: 10, now });
    expect(series.points.map((p) => p.time.toISOString().slice(11, 19))).toEqual(["11:59:00", "11:59:10", "11:59:20", "11:59:30", "11:59:40", "11:59:50"]);
    expect(series.points.map((p) => p.requestRate)).toEqual([2, 0, 0, 5, 0, 0]);
    expect(series.points.map((p) => p.errorRate)).toEqual([0.5, 0, 0, 0, 0, 0]);
    expect(series.points[1]).toMatchObject({ p50Ms: null, p95Ms: null, p99Ms: null });
    const first = series.points[0];
    expect(Math.abs((first?.p50Ms ?? 0) - 40) / 40).toBeLessThanOrEqual(RELATIVE_ERROR);
    expect(Math.abs((first?.p99Ms ?? 0) - 400) / 400).toBeLessThanOrEqual(RELATIVE_ERROR);
  });

  it("narrows to one version or one edge", async () => {
    const version = await findRedSeries({ pool: test.db.pool, target: { kind: "version", service: "order-service", version: "v2" }, windowSeconds: 60, stepSeconds: 10, now });
    expect(version.points.map((p) => p.requestRate)).toEqual([1, 0, 0, 0, 0, 0]);
    const edge = await findRedSeries({ pool: test.db.pool, target: { kind: "edge", source: "cron-job", destination: "order-service" }, windowSeconds: 60, stepSeconds: 10, now });
    expect(edge.points.map((p) => p.requestRate)).toEqual([0, 0, 0, 2, 0, 0]);
    const otherNamespace = await findRedSeries({
      pool: test.db.pool,
      target: { kind: "edge", source: "cron-job", destination: "order-service", destinationNamespace: "billing" },
      windowSeconds: 60,
      stepSeconds: 10,
      now,
    });
    expect(otherNamespace.points.every((p) => p.requestRate === 0)).toBe(true);
  });

  it("reads the 1 min rollups for steps of a minute or more, and rates the current step over its elapsed part", async () => {
    const mid = new Date(now.getTime() + 30_000);
    const series = await findRedSeries({ pool: test.db.pool, target: { kind: "service", service: "order-service" }, windowSeconds: 600, stepSeconds: 120, now: mid });
    // Steps at 11:50, 11:52, 11:54, 11:56, 11:58, 12:00 (30 s elapsed).
    expect(series.points.map((p) => p.time.toISOString().slice(11, 16))).toEqual(["11:50", "11:52", "11:54", "11:56", "11:58", "12:00"]);
    expect(series.points.map((p) => p.requestRate * 120)).toEqual([0, 0, 60, 0, 70, 0]);
  });

  it("refuses steps that do not fit the rollups, and too many points", async () => {
    const base = { pool: test.db.pool, target: { kind: "service" as const, service: "order-service" }, now };
    await expect(findRedSeries({ ...base, windowSeconds: 600, stepSeconds: 15 })).rejects.toThrow("stepSeconds must be a positive multiple of 10 (the finest rollup), got 15");
    await expect(findRedSeries({ ...base, windowSeconds: 600, stepSeconds: 90 })).rejects.toThrow(/stepSeconds 90 is not a whole number of minutes/);
    await expect(findRedSeries({ ...base, windowSeconds: 86_400, stepSeconds: 10 })).rejects.toThrow(/gives 8640 points, at most 1500/);
  });
});
