// The last hour of RED per edge, kept as one row per edge (red_last_hour) so that the service graph over an hour
// reads 5,000 rows for 5,000 edges instead of 300,000 minute rows — summing 128 histogram buckets per row is what
// such a query spends its time on.
//
// Invariant: red_last_hour = the sum of red_1m's rows with bucket ≥ red_window_state.from_minute, grouped by edge.
// Writers add their contributions for minutes inside the window in the same transaction as red_1m, holding the
// state row FOR SHARE; the slider takes it FOR UPDATE, so it subtracts a minute only once every write touching
// that minute has committed, and a writer arriving after the slide sees the new start and leaves that minute out.
import type pg from "pg";
import { toColumns } from "../sql-values.ts";
import { HISTOGRAM_SUMS_SQL, toRollupRows, type RedContribution } from "./red-contribution.ts";

const WINDOW_MS = 3_600_000;
const MINUTE_MS = 60_000;
const KEYS = "source_namespace, source_service, source_version, destination_namespace, destination_service, destination_version, protocol";
const MINUTE_TOTALS = `SELECT ${KEYS}, sum(requests) AS requests, sum(errors) AS errors, sum(mtls_requests) AS mtls_requests,
       sum(duration_sum_ms) AS duration_sum_ms, ARRAY[${HISTOGRAM_SUMS_SQL}]::int4[] AS duration_histogram
  FROM red_1m WHERE bucket >= $1 AND bucket < $2 GROUP BY ${KEYS}`;
const ADD = (a: string, b: string) =>
  `ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0) FROM unnest(${a}, ${b}) WITH ORDINALITY AS h(x, y, i) ORDER BY i)`;
const SUBTRACT = (a: string, b: string) =>
  `ARRAY(SELECT coalesce(x, 0) - coalesce(y, 0) FROM unnest(${a}, ${b}) WITH ORDINALITY AS h(x, y, i) ORDER BY i)`;

const UPSERT = `INSERT INTO red_last_hour (${KEYS}, requests, errors, mtls_requests, duration_sum_ms, duration_histogram)
SELECT sns, ssvc, sver, dns, dsvc, dver, proto, req, err, mtls, dur, hist::int4[]
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::float8[], $12::text[])
       AS u(sns, ssvc, sver, dns, dsvc, dver, proto, req, err, mtls, dur, hist)
ON CONFLICT (${KEYS}) DO UPDATE SET
  requests = red_last_hour.requests + excluded.requests,
  errors = red_last_hour.errors + excluded.errors,
  mtls_requests = red_last_hour.mtls_requests + excluded.mtls_requests,
  duration_sum_ms = red_last_hour.duration_sum_ms + excluded.duration_sum_ms,
  duration_histogram = ${ADD("red_last_hour.duration_histogram", "excluded.duration_histogram")}`;

const KEY_MATCH = KEYS.split(", ")
  .map((key) => `w.${key} = m.${key}`)
  .join(" AND ");
const SUBTRACT_MINUTES = `UPDATE red_last_hour w SET
  requests = w.requests - m.requests, errors = w.errors - m.errors, mtls_requests = w.mtls_requests - m.mtls_requests,
  duration_sum_ms = w.duration_sum_ms - m.duration_sum_ms,
  duration_histogram = ${SUBTRACT("w.duration_histogram", "m.duration_histogram")}
  FROM (${MINUTE_TOTALS}) m WHERE ${KEY_MATCH}`;

/** Adds a write's contributions to the window (inside the writer's transaction, after red_1m). */
export async function addToLastHour(client: pg.PoolClient, contributions: readonly RedContribution[]): Promise<void> {
  const { rows } = await client.query<{ from_minute: Date | null }>("SELECT from_minute FROM red_window_state WHERE name = 'last_hour' FOR SHARE");
  const from = rows[0]?.from_minute;
  if (!from) return; // not built yet: the first slide builds it from red_1m
  const inside = contributions.filter((c) => c.timeMs >= from.getTime());
  if (inside.length === 0) return;
  // One row per edge: the window has no bucket and no workload or response class.
  const perEdge = toRollupRows(
    inside.map((c) => ({ ...c, timeMs: 0, sourceWorkload: "", destinationWorkload: "", responseClass: "" })),
    WINDOW_MS,
  );
  await client.query(
    UPSERT,
    toColumns(perEdge, 12, (r) => [r.sourceNamespace, r.sourceService, r.sourceVersion, r.destinationNamespace, r.destinationService, r.destinationVersion, r.protocol, r.requests, r.errors, r.mtlsRequests, r.durationSumMs, `{${r.histogram.join(",")}}`]),
  );
}

/**
 * Slides the window so it starts 60 whole minutes before the current one (the last hour widened to whole minutes,
 * as every rollup range is widened to whole buckets), building it
 * from red_1m the first time or after ingest was away for longer than the window. Returns where it starts.
 */
export async function slideLastHour(pool: pg.Pool, now: number): Promise<Date> {
  const target = new Date(Math.floor(now / MINUTE_MS) * MINUTE_MS - WINDOW_MS);
  const current = await pool.query<{ from_minute: Date | null }>("SELECT from_minute FROM red_window_state WHERE name = 'last_hour'");
  const seen = current.rows[0]?.from_minute;
  if (seen && seen.getTime() >= target.getTime()) return seen;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL jit = off");
    const { rows } = await client.query<{ from_minute: Date | null }>("SELECT from_minute FROM red_window_state WHERE name = 'last_hour' FOR UPDATE");
    const from = rows[0]?.from_minute ?? null;
    if (from && from.getTime() >= target.getTime()) {
      await client.query("COMMIT"); // another ingest slid it meanwhile
      return from;
    }
    if (!from || target.getTime() - from.getTime() >= WINDOW_MS) {
      await client.query("DELETE FROM red_last_hour");
      await client.query(`INSERT INTO red_last_hour (${KEYS}, requests, errors, mtls_requests, duration_sum_ms, duration_histogram) ${MINUTE_TOTALS}`, [target, new Date(8_640_000_000_000_000)]);
    } else {
      await client.query(SUBTRACT_MINUTES, [from, target]);
      await client.query("DELETE FROM red_last_hour WHERE requests <= 0");
    }
    await client.query("UPDATE red_window_state SET from_minute = $1 WHERE name = 'last_hour'", [target]);
    await client.query("COMMIT");
    return target;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
