// The write path against a real Postgres: idempotent raw rows, trace summaries, RED rollups from Istio metrics
// (cumulative deltas, reporter rules) and from paired spans, refused out-of-range items, retention, and
// concurrent writers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LogEntry, MetricPointRecord, SpanRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { emptyHistogram, quantile, record } from "./latency-histogram.ts";
import { PartitionManager, dayOf, partitionName } from "./partitions.ts";
import { createTelemetryStore, type TelemetryStore } from "./telemetry-store.ts";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const ms = (t: number) => BigInt(t) * 1_000_000n;
const empty = { spans: [], logs: [], metricPoints: [] };

let test: TestDatabase;
let clock = NOW;
let store: TelemetryStore;

beforeAll(async () => {
  test = await createTestDatabase();
});
afterAll(async () => {
  await test?.drop();
});
beforeEach(async () => {
  clock = NOW;
  store = createTelemetryStore(test.db.pool, { now: () => clock, edgeWaitMs: 5_000 });
  await test.db.pool.query("TRUNCATE spans, traces, log_records, metric_series, metric_points, red_10s, red_1m");
});

function span(overrides: Partial<SpanRecord> & Pick<SpanRecord, "traceId" | "spanId">): SpanRecord {
  return {
    parentSpanId: null,
    serviceName: "frontend",
    serviceNamespace: "shop",
    serviceVersion: "v1",
    scopeName: "app",
    name: "GET /",
    kind: 2,
    startTimeUnixNano: ms(NOW - 1000),
    endTimeUnixNano: ms(NOW - 1000 + 25),
    statusCode: 0,
    statusMessage: null,
    httpStatusCode: 200,
    attributes: {},
    resourceAttributes: { "service.name": "frontend" },
    events: [],
    links: [],
    ...overrides,
  };
}

const TRACE = "0af7651916cd43dd8448eb211c80319c";

describe("spans and traces", () => {
  it("stores a batch once however often it is sent, and summarises its traces", async () => {
    const spans = [
      span({ traceId: TRACE, spanId: "b7ad6b7169203331", name: "GET /checkout", events: [{ name: "retry", timeUnixNano: ms(NOW - 990), attributes: { attempt: 2 } }] }),
      span({ traceId: TRACE, spanId: "00f067aa0ba902b7", parentSpanId: "b7ad6b7169203331", serviceName: "orders", name: "POST /orders", kind: 3, startTimeUnixNano: ms(NOW - 995), endTimeUnixNano: ms(NOW - 900), statusCode: 2 }),
    ];
    expect(await store.write({ ...empty, spans })).toMatchObject({ spans: 2, outOfRange: { spans: 0 } });
    expect((await store.write({ ...empty, spans })).spans).toBe(0);
    const { rows } = await test.db.pool.query(`SELECT span_count, error_count, root_service, root_name, services, operations,
        (extract(epoch FROM end_time - start_time) * 1000)::int AS duration_ms FROM traces`);
    expect(rows).toEqual([
      {
        span_count: 2,
        error_count: 1,
        root_service: "frontend",
        root_name: "GET /checkout",
        services: expect.arrayContaining(["frontend", "orders"]),
        operations: expect.arrayContaining(["frontend\u001fGET /checkout", "orders\u001fPOST /orders"]),
        duration_ms: 100,
      },
    ]);
    const stored = await test.db.pool.query("SELECT events, start_time FROM spans WHERE span_id = 'b7ad6b7169203331'");
    expect(stored.rows[0].events).toEqual([{ name: "retry", timeUnixNano: String(ms(NOW - 990)), attributes: { attempt: 2 } }]);
    expect((stored.rows[0].start_time as Date).getTime()).toBe(NOW - 1000);
  });

  it("summarises a trace whose spans arrive in several batches in one row", async () => {
    await store.write({ ...empty, spans: [span({ traceId: TRACE, spanId: "0000000000000002", parentSpanId: "0000000000000001", serviceName: "orders", startTimeUnixNano: ms(NOW - 900), endTimeUnixNano: ms(NOW - 800), statusCode: 2 })] });
    await store.write({ ...empty, spans: [span({ traceId: TRACE, spanId: "0000000000000001", name: "GET /cart" })] });
    const { rows } = await test.db.pool.query("SELECT span_count, error_count, root_name, services, (extract(epoch FROM end_time - start_time) * 1000)::int AS ms FROM traces");
    expect(rows).toEqual([{ span_count: 2, error_count: 1, root_name: "GET /cart", services: expect.arrayContaining(["orders", "frontend"]), ms: 200 }]);
  });

  it("puts spans of different days into their days' partitions", async () => {
    const yesterday = NOW - 86_400_000;
    await store.write({ ...empty, spans: [span({ traceId: TRACE, spanId: "0000000000000001" }), span({ traceId: TRACE, spanId: "0000000000000002", startTimeUnixNano: ms(yesterday), endTimeUnixNano: ms(yesterday + 5) })] });
    const { rows } = await test.db.pool.query("SELECT tableoid::regclass::text AS partition FROM spans ORDER BY start_time");
    expect(rows.map((r) => r.partition)).toEqual([partitionName("spans", dayOf(yesterday)), partitionName("spans", dayOf(NOW))]);
    expect((await test.db.pool.query("SELECT count(*)::int AS n FROM traces")).rows[0].n).toBe(2);
  });

  it("refuses items stamped outside the retention or a day ahead, and stores the rest", async () => {
    const result = await store.write({ ...empty, spans: [span({ traceId: TRACE, spanId: "0000000000000001" }), span({ traceId: TRACE, spanId: "0000000000000002", startTimeUnixNano: 0n, endTimeUnixNano: 5n })] });
    expect(result.spans).toBe(1);
    expect(result.outOfRange.spans).toBe(1);
    expect(result.outOfRange.messages[0]).toMatch(/1 spans \(the first stamped 1970-01-01T00:00:00.000Z\) are outside the stored range .*check the sender's clock/);
  });

  it("lets concurrent writers store overlapping batches without deadlock or double counting", async () => {
    const spans = Array.from({ length: 200 }, (_, i) => span({ traceId: `${TRACE.slice(0, 28)}${String(i % 20).padStart(4, "0")}`, spanId: i.toString(16).padStart(16, "0") }));
    const shuffled = [...spans].reverse();
    await Promise.all([store.write({ ...empty, spans }), store.write({ ...empty, spans: shuffled }), store.write({ ...empty, spans }), store.write({ ...empty, spans: shuffled })]);
    const { rows } = await test.db.pool.query("SELECT count(*)::int AS spans, (SELECT sum(span_count)::int FROM traces) AS counted FROM spans");
    expect(rows[0]).toEqual({ spans: 200, counted: 200 });
  });
});

describe("log records", () => {
  it("stores access-log records once, with their fields as columns", async () => {
    const entry: LogEntry = {
      serviceName: "orders",
      serviceNamespace: "shop",
      serviceVersion: "v2",
      resourceAttributes: {},
      scopeName: "@trellis/sidecar",
      timeUnixNano: ms(NOW - 500),
      observedTimeUnixNano: ms(NOW - 499),
      severityNumber: 13,
      severityText: "WARN",
      body: '[2026-11-24T11:59:59.500Z] "GET /orders HTTP/1.1" 503 UF',
      attributes: { method: "GET", path: "/orders", response_code: 503, response_flags: "UF,URX", duration: 12.5, attempt_count: 3, upstream_cluster: "outbound|80||orders", destination_service_name: "orders", request_id: "-" },
      traceId: TRACE,
      spanId: "b7ad6b7169203331",
      eventName: null,
    };
    expect(await store.write({ ...empty, logs: [entry, entry] })).toMatchObject({ logs: 1 });
    expect((await store.write({ ...empty, logs: [entry] })).logs).toBe(0);
    const { rows } = await test.db.pool.query("SELECT method, path, response_code, response_flags, duration_ms, attempt_count, upstream_cluster, destination_service, request_id, trace_id FROM log_records");
    expect(rows).toEqual([{ method: "GET", path: "/orders", response_code: 503, response_flags: "UF,URX", duration_ms: 12.5, attempt_count: 3, upstream_cluster: "outbound|80||orders", destination_service: "orders", request_id: null, trace_id: TRACE }]);
  });
});

describe("RED rollups", () => {
  const BOUNDS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000];
  const LABELS = {
    reporter: "destination",
    source_workload: "frontend-v1",
    source_workload_namespace: "shop",
    source_app: "frontend",
    source_version: "v1",
    destination_workload: "orders-v2",
    destination_service_name: "orders",
    destination_service_namespace: "shop",
    destination_version: "v2",
    request_protocol: "http",
    response_code: "200",
    response_flags: "-",
    connection_security_policy: "mutual_tls",
  };

  function durationPoint(timeMs: number, counts: number[], overrides: Partial<MetricPointRecord> = {}, labels: Record<string, string> = {}): MetricPointRecord {
    return {
      serviceName: "orders",
      serviceNamespace: "shop",
      serviceVersion: "v2",
      resourceAttributes: { "service.instance.id": "orders-v2-0" },
      scopeName: "@trellis/sidecar",
      name: "istio_request_duration_milliseconds",
      description: "",
      unit: "ms",
      kind: "histogram",
      temporality: "cumulative",
      monotonic: false,
      attributes: { ...LABELS, ...labels },
      startTimeUnixNano: ms(NOW - 60_000),
      timeUnixNano: ms(timeMs),
      value: null,
      count: counts.reduce((a, b) => a + b, 0),
      sum: counts.reduce((a, b, i) => a + b * (BOUNDS[i] ?? 1000), 0),
      min: null,
      max: null,
      bounds: BOUNDS,
      bucketCounts: counts,
      exponential: null,
      ...overrides,
    };
  }

  async function rollup(table: "red_10s" | "red_1m") {
    const { rows } = await test.db.pool.query(
      `SELECT extract(epoch FROM bucket) * 1000 AS bucket_ms, source_service, destination_service, destination_version, response_class,
              requests::int, errors::int, mtls_requests::int, duration_histogram FROM ${table} ORDER BY bucket, response_class`,
    );
    return rows.map((r) => ({ ...r, bucket_ms: Number(r.bucket_ms) }));
  }

  it("turns cumulative Istio histograms into per-bucket deltas, once", async () => {
    const counts1 = [0, 2, 6, 2, 0, 0, 0, 0, 0, 0, 0];
    const counts2 = [0, 3, 10, 5, 1, 0, 0, 0, 0, 0, 0]; // +1, +4, +3, +1 = 9 more
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 25_000, counts1)] });
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 15_000, counts2)] });
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 15_000, counts2)] }); // resent: no change
    const tenSeconds = await rollup("red_10s");
    expect(tenSeconds.map((r) => [r.bucket_ms, r.requests, r.mtls_requests])).toEqual([
      [NOW - 30_000, 10, 10],
      [NOW - 20_000, 9, 9],
    ]);
    const minute = await rollup("red_1m");
    expect(minute).toHaveLength(1);
    expect(minute[0]).toMatchObject({ source_service: "frontend", destination_service: "orders", destination_version: "v2", response_class: "2xx", requests: 19, errors: 0 });
    expect((minute[0].duration_histogram as number[]).reduce((a, b) => a + b, 0)).toBe(19);
    const p50 = quantile(minute[0].duration_histogram, 0.5) as number;
    expect(p50).toBeGreaterThan(1);
    expect(p50).toBeLessThan(5);
  });

  it("counts a restarted series from its new start and a long-running one first seen only as a baseline", async () => {
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 20_000, [0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0], { startTimeUnixNano: ms(NOW - 3_600_000) })] });
    expect(await rollup("red_1m")).toHaveLength(0);
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 5_000, [0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0], { startTimeUnixNano: ms(NOW - 9_000) })] });
    expect((await rollup("red_1m")).map((r) => r.requests)).toEqual([4]);
  });

  it("counts a label set that first appears in a process it already follows (the first 503 of a long-running sidecar)", async () => {
    const old = { startTimeUnixNano: ms(NOW - 3_600_000) };
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 20_000, [0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0], old)] });
    await store.write({
      ...empty,
      metricPoints: [
        durationPoint(NOW - 10_000, [0, 0, 101, 0, 0, 0, 0, 0, 0, 0, 0], old),
        durationPoint(NOW - 10_000, [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0], old, { response_code: "503", response_flags: "URX" }),
      ],
    });
    expect((await rollup("red_1m")).map((r) => [r.response_class, r.requests])).toEqual([
      ["2xx", 1],
      ["5xx", 2],
    ]);
  });

  it("takes the destination's report, and the source's only where the destination never saw the request", async () => {
    const source = { reporter: "source" };
    await store.write({
      ...empty,
      metricPoints: [
        durationPoint(NOW - 5_000, [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0], { temporality: "delta" }, source),
        durationPoint(NOW - 5_000, [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0], { temporality: "delta" }, { ...source, response_code: "503", response_flags: "UF" }),
        durationPoint(NOW - 5_000, [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0], { temporality: "delta" }),
      ],
    });
    expect((await rollup("red_1m")).map((r) => [r.response_class, r.requests, r.errors])).toEqual([
      ["2xx", 3, 0],
      ["5xx", 2, 2],
    ]);
  });

  it("puts a request that found no destination in the caller's namespace, on the node of the service it named", async () => {
    const noRoute = { reporter: "source", response_code: "503", response_flags: "UH", destination_workload: "unknown", destination_service_namespace: "unknown", destination_version: "unknown" };
    await store.write({ ...empty, metricPoints: [durationPoint(NOW - 5_000, [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0], { temporality: "delta" }, noRoute)] });
    const { rows } = await test.db.pool.query("SELECT destination_namespace, destination_service, requests::int FROM red_1m");
    expect(rows).toEqual([{ destination_namespace: "shop", destination_service: "orders", requests: 2 }]);
  });

  it("pairs client and server spans of SDK-instrumented services into edges, and records unpaired ones after the wait", async () => {
    const client = span({ traceId: TRACE, spanId: "1000000000000001", kind: 3, serviceName: "web", serviceVersion: "v3", startTimeUnixNano: ms(NOW - 2000), endTimeUnixNano: ms(NOW - 1960) });
    const server = span({ traceId: TRACE, spanId: "2000000000000002", parentSpanId: "1000000000000001", serviceName: "api", startTimeUnixNano: ms(NOW - 1990), endTimeUnixNano: ms(NOW - 1970), httpStatusCode: 500, statusCode: 2 });
    const lonelyClient = span({ traceId: TRACE, spanId: "3000000000000003", kind: 3, serviceName: "web", attributes: { "server.address": "payments.example.com" } });
    await store.write({ ...empty, spans: [client, lonelyClient] });
    expect(await rollup("red_1m")).toHaveLength(0); // waiting for the server spans
    await store.write({ ...empty, spans: [server] });
    expect((await rollup("red_1m")).map((r) => [r.source_service, r.destination_service, r.response_class, r.requests, r.errors])).toEqual([["web", "api", "5xx", 1, 1]]);
    const histogram = (await rollup("red_1m"))[0]?.duration_histogram as number[];
    const expected = emptyHistogram();
    record(expected, 20);
    expect(histogram).toEqual(expected);
    clock = NOW + 6_000;
    await store.tick();
    expect((await rollup("red_1m")).map((r) => [r.source_service, r.destination_service])).toEqual([
      ["web", "payments.example.com"],
      ["web", "api"],
    ]);
  });

  it("does not count spans of mesh proxies, whose metrics already count the requests", async () => {
    await store.write({ ...empty, spans: [span({ traceId: TRACE, spanId: "1000000000000001", scopeName: "@trellis/sidecar" })] });
    await store.tick();
    expect(await rollup("red_1m")).toHaveLength(0);
  });
});

describe("retention", () => {
  it("drops whole daily partitions older than the retention and keeps the rest", async () => {
    const partitions = new PartitionManager(test.db.pool);
    const today = dayOf(NOW);
    await partitions.ensure("spans", [today - 9, today - 7, today]);
    await partitions.ensure("red_10s", [today - 8]);
    const { dropped } = await store.maintain();
    expect(dropped).toEqual([partitionName("red_10s", today - 8), partitionName("spans", today - 9)]);
    const { rows } = await test.db.pool.query("SELECT to_regclass($1) AS kept", [partitionName("spans", today - 7)]);
    expect(rows[0].kept).not.toBeNull();
  });
});
