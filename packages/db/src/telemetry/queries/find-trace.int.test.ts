// One trace against a real Postgres, spans inserted by SQL: the spans in tree order with every field, spans over two days, an
// orphan, and a trace that is not there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { findTrace } from "./find-trace.ts";
import { insertSpanRows } from "./telemetry-rows.fixture.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const span = (n: number) => n.toString(16).padStart(16, "0");

describe("findTrace", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    await insertSpanRows(test.db.pool, [
      { traceId: TRACE, spanId: span(1), service: "gateway", name: "GET /checkout", start: "2026-03-01T23:59:59.999000Z", durationMs: 5.5 },
      {
        traceId: TRACE,
        spanId: span(3),
        parentSpanId: span(1),
        service: "gateway",
        name: "GET /pay",
        kind: 3,
        start: "2026-03-02T00:00:00.000250Z",
        durationMs: 2,
        statusCode: 2,
        attributes: { "http.response.status_code": 503 },
        events: [{ name: "retry", timeUnixNano: "1772409600000300000", attributes: { attempt: 2 } }],
        links: [{ traceId: "a".repeat(32), spanId: "b".repeat(16), traceState: null, attributes: {} }],
      },
      { traceId: TRACE, spanId: span(2), parentSpanId: span(1), service: "frontend", start: "2026-03-02T00:00:00.000200Z", durationMs: 1 },
      // Its parent never arrived.
      { traceId: TRACE, spanId: span(9), parentSpanId: span(8), service: "worker", name: "consume", kind: 5, start: "2026-03-02T00:00:00.001000Z" },
      { traceId: "f".repeat(32), spanId: span(1), service: "other", start: "2026-03-02T00:00:00.000000Z" },
    ]);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("returns every span of the trace, across days, in tree order", async () => {
    const trace = await findTrace({ pool: test.db.pool, traceId: TRACE.toUpperCase() });
    expect(trace).toMatchObject({ traceId: TRACE, spanCount: 4, services: ["frontend", "gateway", "worker"], startTime: new Date("2026-03-01T23:59:59.999Z") });
    expect(trace.durationMs).toBeCloseTo(12, 6); // to the end of the orphan: 2 ms after the start, lasting 10 ms
    expect(trace.spans.map((s) => [s.spanId, s.depth])).toEqual([
      [span(1), 0],
      [span(2), 1],
      [span(3), 1],
      [span(9), 0],
    ]);
    const pay = trace.spans[2];
    expect(pay).toEqual({
      spanId: span(3),
      parentSpanId: span(1),
      service: "gateway",
      namespace: "default",
      version: "v1",
      name: "GET /pay",
      kind: "CLIENT",
      startTime: new Date("2026-03-02T00:00:00.000Z"),
      offsetMs: 1.25,
      durationMs: 2,
      status: { code: "ERROR", message: null },
      attributes: { "http.response.status_code": 503 },
      events: [{ name: "retry", timeUnixNano: "1772409600000300000", attributes: { attempt: 2 } }],
      links: [{ traceId: "a".repeat(32), spanId: "b".repeat(16), traceState: null, attributes: {} }],
      depth: 1,
    });
    expect(trace.spans[3]).toMatchObject({ kind: "CONSUMER", name: "consume", offsetMs: 2, status: { code: "UNSET" } });
  });

  it("says which trace is not stored", async () => {
    await expect(findTrace({ pool: test.db.pool, traceId: "0".repeat(31) + "1" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringContaining(`no trace with id ${"0".repeat(31)}1 is stored`),
    });
  });
});
