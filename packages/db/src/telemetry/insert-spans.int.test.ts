// The span write path against a real Postgres: every field lands in its column, and a retried batch is stored once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { insertSpans } from "./insert-spans.ts";

function span(overrides: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    parentSpanId: null,
    serviceName: "order-service",
    serviceNamespace: "default",
    serviceVersion: "v2",
    name: "GET /orders",
    kind: 2,
    startTimeUnixNano: 1_764_000_000_123_456_789n,
    endTimeUnixNano: 1_764_000_000_135_456_789n,
    statusCode: 0,
    statusMessage: null,
    httpStatusCode: 200,
    attributes: { "http.request.method": "GET", "http.response.status_code": 200, retried: false },
    resourceAttributes: { "service.name": "order-service" },
    events: [{ name: "retry", timeUnixNano: 1_764_000_000_130_000_000n, attributes: { attempt: 2 } }],
    ...overrides,
  };
}

describe("insertSpans", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("stores every field, with microsecond start times and nanosecond durations", async () => {
    expect(await insertSpans(test.db.pool, [span()])).toBe(1);
    const { rows } = await test.db.pool.query(
      `SELECT *, to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS start_text FROM spans`,
    );
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row.start_text).toBe("2025-11-24T16:00:00.123456");
    expect(row).toMatchObject({
      trace_id: "0af7651916cd43dd8448eb211c80319c",
      span_id: "b7ad6b7169203331",
      parent_span_id: null,
      service_name: "order-service",
      service_version: "v2",
      kind: 2,
      duration_ns: "12000000",
      http_status_code: 200,
      attributes: { "http.request.method": "GET", "http.response.status_code": 200, retried: false },
      events: [{ name: "retry", timeUnixNano: "1764000000130000000", attributes: { attempt: 2 } }],
    });
  });

  it("stores a retried batch once", async () => {
    const batch = [span({ spanId: "1111111111111111" }), span({ spanId: "2222222222222222", parentSpanId: "1111111111111111" })];
    expect(await insertSpans(test.db.pool, batch)).toBe(2);
    expect(await insertSpans(test.db.pool, batch)).toBe(0);
    const { rows } = await test.db.pool.query(`SELECT count(*)::int AS n FROM spans WHERE span_id IN ('1111111111111111','2222222222222222')`);
    expect(rows[0].n).toBe(2);
  });
});
