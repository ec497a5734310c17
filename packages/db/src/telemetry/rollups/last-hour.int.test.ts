// red_last_hour against a real Postgres: built from red_1m, kept by writers, slid by the store's tick — and always
// equal to red_1m summed over the window, which is what the graph over one hour then reads.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MetricPointRecord } from "@trellis/otlp";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { findServiceGraph } from "../queries/find-service-graph.ts";
import { resolveRollupRange } from "../queries/rollup-range.ts";
import { createTelemetryStore, type TelemetryStore } from "../telemetry-store.ts";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 30);
const MINUTE = 60_000;
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
  store = createTelemetryStore(test.db.pool, { now: () => clock });
  await test.db.pool.query("TRUNCATE red_10s, red_1m, red_last_hour, metric_series, metric_points");
  await test.db.pool.query("UPDATE red_window_state SET from_minute = NULL");
});

/** `count` requests of ~3 ms from frontend v1 to `destination` v2, reported by the destination at `timeMs`. */
function requests(timeMs: number, count: number, destination = "orders"): MetricPointRecord {
  return {
    serviceName: destination,
    serviceNamespace: "shop",
    serviceVersion: "v2",
    resourceAttributes: {},
    scopeName: "@trellis/sidecar",
    name: "istio_request_duration_milliseconds",
    description: "",
    unit: "ms",
    kind: "histogram",
    temporality: "delta",
    monotonic: false,
    attributes: { reporter: "destination", source_app: "frontend", source_version: "v1", source_workload_namespace: "shop", destination_service_name: destination, destination_service_namespace: "shop", destination_workload: `${destination}-v2`, destination_version: "v2", request_protocol: "http", response_code: "200" },
    startTimeUnixNano: BigInt(timeMs - 10_000) * 1_000_000n,
    timeUnixNano: BigInt(timeMs) * 1_000_000n,
    value: null,
    count,
    sum: count * 3,
    min: null,
    max: null,
    bounds: [1, 5],
    bucketCounts: [0, count, 0],
    exponential: null,
  };
}

async function write(...points: MetricPointRecord[]) {
  await store.write({ spans: [], logs: [], metricPoints: points });
}

/** The window's rows, and red_1m summed over the same minutes: they must always be equal. */
async function windowAndMinutes() {
  const { pool } = test.db;
  const state = await pool.query<{ from_minute: Date }>("SELECT from_minute FROM red_window_state WHERE name = 'last_hour'");
  const from = state.rows[0]?.from_minute;
  const window = await pool.query("SELECT destination_service, requests::int, duration_histogram FROM red_last_hour ORDER BY destination_service");
  const minutes = await pool.query(
    `SELECT destination_service, sum(requests)::int AS requests,
            ARRAY(SELECT sum(h) FROM red_1m r2, unnest(r2.duration_histogram) WITH ORDINALITY u(h, i)
                   WHERE r2.bucket >= $1 AND r2.destination_service = r.destination_service GROUP BY i ORDER BY i)::int4[] AS duration_histogram
       FROM red_1m r WHERE bucket >= $1 GROUP BY destination_service ORDER BY destination_service`,
    [from],
  );
  return { from: from?.getTime(), window: window.rows, minutes: minutes.rows };
}

describe("red_last_hour", () => {
  it("is built from red_1m on the first tick, then kept by writers and slid by later ticks", async () => {
    await write(requests(NOW - 65 * MINUTE, 2), requests(NOW - 30 * MINUTE, 3), requests(NOW - MINUTE, 4));
    expect((await windowAndMinutes()).window).toEqual([]); // not built before the first tick
    await store.tick();
    let state = await windowAndMinutes();
    expect(state.from).toBe(Date.UTC(2026, 10, 24, 11, 0, 0));
    expect(state.window.map((r) => r.requests)).toEqual([7]);
    expect(state.window).toEqual(state.minutes);

    await write(requests(NOW - 5 * MINUTE, 5), requests(NOW - 2 * MINUTE, 1, "payments"));
    state = await windowAndMinutes();
    expect(state.window.map((r) => [r.destination_service, r.requests])).toEqual([
      ["orders", 12],
      ["payments", 1],
    ]);
    expect(state.window).toEqual(state.minutes);

    clock = NOW + 35 * MINUTE; // the window now starts at 11:35: the 11:30 minute leaves it
    await store.tick();
    state = await windowAndMinutes();
    expect(state.from).toBe(Date.UTC(2026, 10, 24, 11, 35, 0));
    expect(state.window.map((r) => [r.destination_service, r.requests])).toEqual([
      ["orders", 9],
      ["payments", 1],
    ]);
    expect(state.window).toEqual(state.minutes);

    await write(requests(NOW - 40 * MINUTE, 50)); // late, for a minute already out of the window
    expect((await windowAndMinutes()).window.map((r) => r.requests)).toEqual([9, 1]);
  });

  it("is rebuilt when ingest was away for longer than the window", async () => {
    await write(requests(NOW - MINUTE, 4));
    await store.tick();
    clock = NOW + 3 * 60 * MINUTE;
    await write(requests(clock - MINUTE, 6, "payments"));
    await store.tick();
    const state = await windowAndMinutes();
    expect(state.window.map((r) => [r.destination_service, r.requests])).toEqual([["payments", 6]]);
    expect(state.window).toEqual(state.minutes);
  });

  it("gives the same graph as the minute rollups it sums, in both views", async () => {
    await write(requests(NOW - 50 * MINUTE, 7), requests(NOW - 20 * MINUTE, 4), requests(NOW - MINUTE, 2, "payments"));
    await store.tick();
    const now = new Date(NOW);
    for (const view of ["workload", "service"] as const) {
      const fromWindow = await findServiceGraph({ pool: test.db.pool, windowSeconds: 3600, now, view });
      await test.db.pool.query("UPDATE red_window_state SET from_minute = NULL"); // the graph falls back to red_1m
      const fromMinutes = await findServiceGraph({ pool: test.db.pool, windowSeconds: 3600, now, view });
      expect(fromWindow.edges.length).toBe(2);
      expect(fromWindow).toEqual(fromMinutes);
      await store.tick();
    }
  });

  it("answers a graph range of the last hour ending now, and only that", async () => {
    await write(requests(NOW - MINUTE, 4));
    await store.tick();
    const now = new Date(NOW);
    const lastHour = await resolveRollupRange(test.db.pool, { from: new Date(NOW - 3_600_000), to: now }, now);
    expect(lastHour).toMatchObject({ table: "red_last_hour", from: new Date(Date.UTC(2026, 10, 24, 11, 0, 0)) });
    const twoHours = await resolveRollupRange(test.db.pool, { from: new Date(NOW - 7_200_000), to: now }, now);
    expect(twoHours.table).toBe("red_1m");
    const hourAgo = await resolveRollupRange(test.db.pool, { from: new Date(NOW - 7_200_000), to: new Date(NOW - 3_600_000) }, now);
    expect(hourAgo.table).toBe("red_1m");
  });
});
