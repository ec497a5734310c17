// Trace search against a real Postgres, spans and traces rows inserted by SQL: each filter, newest first, the limit,
// and a trace over midnight found once, with the duration of both of its days.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { findTraces } from "./find-traces.ts";
import { insertSpanRows, type SpanInput } from "./telemetry-rows.fixture.ts";

const now = new Date("2026-03-01T12:00:00.000Z");
const traceId = (n: number) => n.toString(16).padStart(32, "0");
const spanId = (n: number) => n.toString(16).padStart(16, "0");

/** A trace of a root span and one child per extra service, all starting at `start`. */
function simpleTrace(n: number, start: string, services: string[], extra: Partial<SpanInput> = {}): SpanInput[] {
  return services.map((service, i) => ({
    traceId: traceId(n),
    spanId: spanId(n * 100 + i),
    parentSpanId: i === 0 ? null : spanId(n * 100),
    service,
    start,
    ...(i === services.length - 1 ? extra : {}),
  }));
}

describe("findTraces", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertSpanRows(test.db.pool, [
      ...simpleTrace(1, "2026-03-01T11:50:00.000Z", ["gateway", "frontend", "order-service"], { durationMs: 120 }),
      ...simpleTrace(2, "2026-03-01T11:40:00.000Z", ["gateway", "payment-service"], { statusCode: 2, durationMs: 30 }),
      ...simpleTrace(3, "2026-03-01T11:30:00.000Z", ["gateway", "frontend"], { name: "GET /checkout", durationMs: 2000 }),
      ...simpleTrace(4, "2026-03-01T09:00:00.000Z", ["gateway"]),
      ...simpleTrace(5, "2026-03-01T11:20:00.000Z", ["gateway", "cart"], { attributes: { "http.route": "/cart", retries: 2 } }),
      // Over midnight: 150 ms on the first day, then a span of the next day ending 600 ms after the trace began.
      { traceId: traceId(6), spanId: spanId(600), service: "gateway", start: "2026-03-01T23:59:59.900Z", durationMs: 150 },
      { traceId: traceId(6), spanId: spanId(601), parentSpanId: spanId(600), service: "late-service", start: "2026-03-02T00:00:00.100Z", durationMs: 400 },
    ]);
  });
  afterAll(async () => {
    await test?.drop();
  });

  const search = (options: Omit<Parameters<typeof findTraces>[0], "pool">) => findTraces({ pool: test.db.pool, now, ...options });
  const ids = async (options: Omit<Parameters<typeof findTraces>[0], "pool">) => (await search(options)).map((t) => Number.parseInt(t.traceId, 16));

  it("returns the last hour's traces, newest first, with their summary", async () => {
    const traces = await search({});
    expect(traces.map((t) => Number.parseInt(t.traceId, 16))).toEqual([1, 2, 3, 5]);
    expect(traces[0]).toMatchObject({
      traceId: traceId(1),
      startTime: new Date("2026-03-01T11:50:00.000Z"),
      spanCount: 3,
      errorCount: 0,
      rootService: "gateway",
      rootName: "GET /",
      services: ["frontend", "gateway", "order-service"],
    });
    expect(traces[0]?.durationMs).toBeCloseTo(120, 6);
    expect(await ids({ limit: 2 })).toEqual([1, 2]);
    expect(await ids({ windowSeconds: 4 * 3600 })).toEqual([1, 2, 3, 5, 4]);
  });

  it("filters on service, operation, error and attribute", async () => {
    expect(await ids({ service: "frontend" })).toEqual([1, 3]);
    expect(await ids({ operation: "GET /checkout" })).toEqual([3]);
    expect(await ids({ service: "frontend", operation: "GET /checkout" })).toEqual([3]);
    expect(await ids({ service: "gateway", operation: "GET /checkout" })).toEqual([]);
    expect(await ids({ errorOnly: true })).toEqual([2]);
    expect(await ids({ attribute: { key: "http.route", value: "/cart" } })).toEqual([5]);
    expect(await ids({ attribute: { key: "retries", value: 2 } })).toEqual([5]);
    expect(await ids({ attribute: { key: "retries", value: "2" } })).toEqual([]);
  });

  it("filters on the trace's duration, not a span's", async () => {
    expect(await ids({ minDurationMs: 1000 })).toEqual([3]);
    expect(await ids({ minDurationMs: 20, maxDurationMs: 200 })).toEqual([1, 2]);
    expect(await ids({ maxDurationMs: 10 })).toEqual([5]);
    await expect(search({ minDurationMs: 200, maxDurationMs: 100 })).rejects.toThrow("minDurationMs (200) is above maxDurationMs (100), so no trace could match");
  });

  it("merges a trace's rows of two days into one result", async () => {
    const window = { from: new Date("2026-03-01T23:00:00Z"), to: new Date("2026-03-02T01:00:00Z") };
    const traces = await search(window);
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({ traceId: traceId(6), spanCount: 2, rootService: "gateway", services: ["gateway", "late-service"] });
    expect(traces[0]?.startTime).toEqual(new Date("2026-03-01T23:59:59.900Z"));
    expect(traces[0]?.durationMs).toBeCloseTo(600, 6);
    // Neither day's row alone lasts 500 ms; the trace does.
    expect(await ids({ ...window, minDurationMs: 500 })).toEqual([6]);
    // Found by a service of its second day, shown whole.
    const late = await search({ ...window, service: "late-service" });
    expect(late[0]).toMatchObject({ spanCount: 2, rootService: "gateway" });
    // A window holding only its second day still shows it whole.
    const secondDay = await search({ from: new Date("2026-03-02T00:00:00Z"), to: new Date("2026-03-02T01:00:00Z") });
    expect(secondDay.map((t) => [t.spanCount, t.startTime.toISOString()])).toEqual([[2, "2026-03-01T23:59:59.900Z"]]);
  });
});
