// RED metrics per service for the dashboard's services table: rate, error ratio and latency percentiles from the
// SERVER spans each service reported in the window, with the same numbers per version (canary vs. stable).
import type pg from "pg";
import { compareText, nsToMs, resolveObservedWindow, toNumber } from "./query-helpers.ts";

export type VersionStats = { version: string | null; requestRate: number; errorRate: number };

export type ServiceStats = {
  service: string;
  namespace: string;
  /** Requests per second received (SERVER spans) over the part of the window that telemetry covers. */
  requestRate: number;
  /** Share of received requests whose span status is ERROR, 0..1. */
  errorRate: number;
  /** Latency percentiles of received requests; null when the service only made calls in the window. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Every version seen in the window, sorted; a version that only made calls has zero rates. */
  versions: VersionStats[];
};

export type FindServiceStatsOptions = { pool: pg.Pool; windowSeconds: number; now?: Date };

type Row = {
  namespace: string;
  service: string;
  version: string | null;
  is_service_total: boolean;
  requests: string;
  errors: string;
  p50_ns: number | null;
  p99_ns: number | null;
};

// CLIENT spans are read too, only so a service that made calls but received none still gets a row. The window
// predicate comes first so the planner can use spans_start_time_idx (and partition pruning once spans is partitioned).
const SQL = `
SELECT namespace, service, version,
       grouping(version) = 1 AS is_service_total,
       count(*) FILTER (WHERE kind = 2) AS requests,
       count(*) FILTER (WHERE kind = 2 AND status_code = 2) AS errors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ns::float8) FILTER (WHERE kind = 2) AS p50_ns,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ns::float8) FILTER (WHERE kind = 2) AS p99_ns
FROM (
  SELECT coalesce(service_namespace, 'default') AS namespace, service_name AS service, service_version AS version,
         kind, status_code, duration_ns
  FROM spans
  WHERE start_time >= $1 AND start_time <= $2 AND kind IN (2, 3)
) windowed
GROUP BY GROUPING SETS ((namespace, service), (namespace, service, version))`;

export async function findServiceStats({ pool, windowSeconds, now }: FindServiceStatsOptions): Promise<ServiceStats[]> {
  const window = await resolveObservedWindow(pool, { windowSeconds, now });
  const { rows } = await pool.query<Row>(SQL, [window.from, window.to]);
  const byKey = new Map<string, ServiceStats>();
  const keyOf = (row: Row) => `${row.namespace}\u0000${row.service}`;
  for (const row of rows) {
    if (!row.is_service_total) continue;
    const requests = toNumber(row.requests);
    byKey.set(keyOf(row), {
      service: row.service,
      namespace: row.namespace,
      requestRate: requests / window.seconds,
      errorRate: requests === 0 ? 0 : toNumber(row.errors) / requests,
      p50Ms: nsToMs(row.p50_ns),
      p99Ms: nsToMs(row.p99_ns),
      versions: [],
    });
  }
  for (const row of rows) {
    if (row.is_service_total) continue;
    const stats = byKey.get(keyOf(row));
    if (!stats) continue;
    const requests = toNumber(row.requests);
    stats.versions.push({
      version: row.version,
      requestRate: requests / window.seconds,
      errorRate: requests === 0 ? 0 : toNumber(row.errors) / requests,
    });
  }
  // Sorted here rather than trusting the database collation, so the order is the same on every server.
  const result = [...byKey.values()].sort((a, b) => compareText(a.service, b.service) || compareText(a.namespace, b.namespace));
  for (const stats of result) stats.versions.sort((a, b) => compareText(a.version ?? "", b.version ?? ""));
  return result;
}
