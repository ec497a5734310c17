// metrics.red, traces.search, traces.get and logs.search through createCaller, on telemetry stored by the real
// write path: what each returns, and the message each gives for bad input.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { createCaller } from "./root.ts";
import { expectTRPCError } from "./testing/expect-trpc-error.ts";
import { accessLog, callSpans, storeTelemetry } from "./testing/shop-telemetry.ts";

describe("telemetry procedures", () => {
  let test: TestDatabase;
  let slowTrace: SpanRecord[];
  beforeAll(async () => {
    test = await createTestDatabase();
    const at = new Date(Date.now() - 90_000);
    slowTrace = callSpans({ caller: "frontend", callee: "order-service", at, durationMs: 900, failed: true });
    const spans = [...slowTrace, ...Array.from({ length: 9 }, () => callSpans({ caller: "frontend", callee: "order-service", at })).flat()];
    const logs = [
      accessLog("frontend", new Date(Date.now() - 60_000), { path: "/api/cart", response_code: 200, response_flags: "-" }),
      accessLog("frontend", new Date(Date.now() - 50_000), { path: "/api/checkout", response_code: 503, response_flags: "UF,URX" }),
      accessLog("frontend", new Date(Date.now() - 40_000), { path: "/api/checkout", response_code: 200 }),
    ];
    await storeTelemetry(test.db.pool, spans, logs);
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("metrics.red gives a point per step, empty steps at zero", async () => {
    const series = await createCaller({ db: test.db }).metrics.red({ target: { kind: "service", service: "order-service" }, windowSeconds: 600, stepSeconds: 60 });
    expect(series.stepSeconds).toBe(60);
    expect(series.points.length).toBeGreaterThanOrEqual(10);
    const busy = series.points.filter((p) => p.requestRate > 0);
    expect(busy).toHaveLength(1);
    expect(busy[0]?.requestRate).toBeCloseTo(10 / 60, 10);
    expect(busy[0]?.errorRate).toBeCloseTo(0.1, 10);
    expect(series.points.every((p) => p.time instanceof Date)).toBe(true);
  });

  it("metrics.red says what is wrong with a step", async () => {
    const error = await expectTRPCError(
      createCaller({ db: test.db }).metrics.red({ target: { kind: "edge", source: "frontend", destination: "order-service" }, windowSeconds: 600, stepSeconds: 90 }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/^stepSeconds 90 is not a whole number of minutes/);
    const kind = await expectTRPCError(createCaller({ db: test.db }).metrics.red({ target: { kind: "pod" } as never, stepSeconds: 60 }));
    expect(kind.message).toBe('invalid input: target.kind: must be "service", "version" or "edge"');
  });

  it("traces.search finds traces by the trace's duration and errors, newest first", async () => {
    const api = createCaller({ db: test.db });
    expect(await api.traces.search()).toHaveLength(10);
    const slow = await api.traces.search({ minDurationMs: 500, errorOnly: true });
    expect(slow.map((t) => t.traceId)).toEqual([slowTrace[0]?.traceId]);
    expect(slow[0]).toMatchObject({ spanCount: 2, errorCount: 2, rootService: "frontend", services: ["frontend", "order-service"] });
    expect(await api.traces.search({ service: "order-service", operation: "GET /", attribute: { key: "http.route", value: "/" }, limit: 3 })).toHaveLength(3);
    const limit = await expectTRPCError(api.traces.search({ limit: 501 }));
    expect(limit.message).toBe("invalid input: limit: must be at most 500");
  });

  it("traces.get returns the trace in tree order, and names a trace id that is malformed or absent", async () => {
    const api = createCaller({ db: test.db });
    const trace = await api.traces.get({ traceId: slowTrace[0]?.traceId ?? "" });
    expect(trace.spans.map((s) => [s.service, s.kind, s.depth, s.status.code])).toEqual([
      ["frontend", "CLIENT", 0, "ERROR"],
      ["order-service", "SERVER", 1, "ERROR"],
    ]);
    const malformed = await expectTRPCError(api.traces.get({ traceId: "xyz" }));
    expect(malformed.code).toBe("BAD_REQUEST");
    expect(malformed.message).toBe("invalid input: traceId: must be 32 hexadecimal characters (a W3C trace id, e.g. 4bf92f3577b34da6a3ce929d0e0e4736)");
    const absent = await expectTRPCError(api.traces.get({ traceId: "0123456789abcdef0123456789abcdef" }));
    expect(absent.code).toBe("NOT_FOUND");
    expect(absent.message).toMatch(/^no trace with id 0123456789abcdef0123456789abcdef is stored/);
  });

  it("logs.search filters access logs and pages with its cursor", async () => {
    const api = createCaller({ db: test.db });
    const first = await api.logs.search({ limit: 2 });
    expect(first.records.map((r) => r.path)).toEqual(["/api/checkout", "/api/checkout"]);
    const second = await api.logs.search({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second.records.map((r) => r.path)).toEqual(["/api/cart"]);
    expect(second.nextCursor).toBeNull();
    const failed = await api.logs.search({ statusClass: "5xx", responseFlags: "UF", pathContains: "checkout" });
    expect(failed.records.map((r) => [r.responseCode, r.responseFlags])).toEqual([[503, "UF,URX"]]);
    const flag = await expectTRPCError(api.logs.search({ responseFlags: "uf" }));
    expect(flag.message).toBe("invalid input: responseFlags: must be one Envoy response flag in capitals, e.g. UF, URX or NR");
    const cursor = await expectTRPCError(api.logs.search({ cursor: "garbage" }));
    expect(cursor.code).toBe("BAD_REQUEST");
    expect(cursor.message).toMatch(/^cursor is not one logs.search returned/);
  });
});
