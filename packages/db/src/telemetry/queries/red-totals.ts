// Adding up RED rollup rows: the SQL that sums a group's requests, errors, mTLS requests and its 128 histogram
// buckets element by element (one sum per bucket — about ten times faster than unnest + group by),
// and the JS side that reads those sums back, merges them further, and turns them into rates and percentiles.
import type pg from "pg";
import { emptyHistogram, mergeInto, quantiles } from "../latency-histogram.ts";
import { HISTOGRAM_SUMS_SQL } from "../rollups/red-contribution.ts";

/**
 * Select-list of the sums; the group's rows must come from a red_10s or red_1m table. The histogram comes back as
 * comma-separated integers (a bucket no row has is 0): a quarter cheaper to format and parse than a float8[].
 */
export const TOTALS_SQL = `sum(requests)::float8 AS requests, sum(errors)::float8 AS errors,
  sum(mtls_requests)::float8 AS mtls_requests, array_to_string(ARRAY[${HISTOGRAM_SUMS_SQL}], ',', '0') AS histogram`;

/**
 * Runs a query that sums rollup rows. Such a query costs enough for Postgres to JIT-compile its 128 sums, which
 * takes longer (~0.4 s) than running them interpreted; and its hash table of per-group sums needs more than the
 * default work_mem, without which Postgres sorts the rows (histograms included) on disk instead. Both settings are
 * local to the transaction.
 */
export async function queryTotals<R extends pg.QueryResultRow>(pool: pg.Pool, sql: string, params: unknown[]): Promise<R[]> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN READ ONLY");
    await client.query("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'");
    const { rows } = await client.query<R>(sql, params);
    await client.query("COMMIT");
    return rows;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export type TotalsRow = { requests: number; errors: number; mtls_requests: number; histogram: string };

export type RedTotals = { requests: number; errors: number; mtlsRequests: number; histogram: number[] };

export type RedSummary = {
  /** Requests per second. */
  requestRate: number;
  /** Share of requests that failed (5xx, non-OK gRPC status, or no response), 0..1. */
  errorRate: number;
  /** Latency percentiles in ms, within the histogram's relative error; null without requests. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
};

export function emptyTotals(): RedTotals {
  return { requests: 0, errors: 0, mtlsRequests: 0, histogram: emptyHistogram() };
}

export function readTotals(row: TotalsRow): RedTotals {
  return { requests: row.requests, errors: row.errors, mtlsRequests: row.mtls_requests, histogram: parseHistogram(row.histogram) };
}

/** "0,0,3,17,…" into numbers, without the intermediate strings split() would make (5,000 edges × 128 buckets). */
function parseHistogram(text: string): number[] {
  const histogram = emptyHistogram();
  let bucket = 0;
  let value = 0;
  let sign = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 44 /* , */) {
      histogram[bucket++] = sign * value;
      value = 0;
      sign = 1;
    } else if (c === 45 /* - */) {
      sign = -1;
    } else {
      value = value * 10 + (c - 48);
    }
  }
  if (text.length > 0) histogram[bucket] = sign * value;
  return histogram;
}

export function addTotals(into: RedTotals, from: RedTotals): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.mtlsRequests += from.mtlsRequests;
  mergeInto(into.histogram, from.histogram);
}

export function summarize(totals: RedTotals, seconds: number): RedSummary {
  const { requests, histogram } = totals;
  const [p50Ms = null, p95Ms = null, p99Ms = null] = quantiles(histogram, [0.5, 0.95, 0.99]);
  return {
    requestRate: seconds > 0 ? requests / seconds : 0,
    errorRate: requests > 0 ? Math.min(1, totals.errors / requests) : 0,
    p50Ms,
    p95Ms,
    p99Ms,
  };
}
