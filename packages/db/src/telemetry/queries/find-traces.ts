// traces.search: the newest traces matching a filter, from the traces table (one row per trace and UTC day). Rows
// that started in the range are matched on service (the services GIN index) and operation; each matching trace is
// then merged across its days — so a trace running over midnight is one result with its whole duration — before
// the duration, error and attribute filters, which are about the whole trace.
import type pg from "pg";
import { AppError } from "@trellis/runtime";
import type { AttributeValue } from "@trellis/otlp";
import { compare } from "../sql-values.ts";
import { resolveTimeRange, toNumber, utcDay, type TimeRangeInput } from "./query-helpers.ts";

export type TraceSummary = {
  traceId: string;
  startTime: Date;
  /** The trace's own duration: from its first span's start to its last span's end. */
  durationMs: number;
  spanCount: number;
  errorCount: number;
  /** Service and name of the root span; null when the root span has not been received. */
  rootService: string | null;
  rootName: string | null;
  services: string[];
};

export type FindTracesOptions = TimeRangeInput & {
  pool: pg.Pool;
  service?: string;
  /** A span name; with `service`, a span of that service with that name. */
  operation?: string;
  minDurationMs?: number;
  maxDurationMs?: number;
  errorOnly?: boolean;
  /** A span of the trace has this attribute with this value. */
  attribute?: { key: string; value: AttributeValue };
  limit?: number;
};

const DEFAULT_WINDOW_SECONDS = 3600;
export const DEFAULT_TRACE_LIMIT = 20;
const OPERATION_SEPARATOR = "\u001f";

type TraceRow = {
  trace_id: string;
  start_time: Date;
  duration_ms: number;
  span_count: number;
  error_count: number;
  root_service: string | null;
  root_name: string | null;
  services: string[] | null;
};

export async function findTraces(options: FindTracesOptions): Promise<TraceSummary[]> {
  const { pool, service, operation, minDurationMs, maxDurationMs, errorOnly, attribute, limit = DEFAULT_TRACE_LIMIT } = options;
  const range = resolveTimeRange(options, DEFAULT_WINDOW_SECONDS);
  if (minDurationMs !== undefined && maxDurationMs !== undefined && minDurationMs > maxDurationMs) {
    throw new AppError("BAD_REQUEST", `minDurationMs (${minDurationMs}) is above maxDurationMs (${maxDurationMs}), so no trace could match`);
  }
  const params: unknown[] = [range.from, range.to, utcDay(range.from), utcDay(range.to)];
  const param = (value: unknown) => `$${params.push(value)}`;

  const rowFilters: string[] = [];
  if (service !== undefined) rowFilters.push(`services @> ARRAY[${param(service)}]::text[]`);
  if (operation !== undefined) {
    rowFilters.push(
      service !== undefined
        ? `operations @> ARRAY[${param(`${service}${OPERATION_SEPARATOR}${operation}`)}]::text[]`
        : `EXISTS (SELECT 1 FROM unnest(operations) o WHERE substr(o, strpos(o, E'\\x1f') + 1) = ${param(operation)})`,
    );
  }
  const traceFilters: string[] = [];
  if (minDurationMs !== undefined) traceFilters.push(`end_time - start_time >= ${param(minDurationMs)} * interval '1 millisecond'`);
  if (maxDurationMs !== undefined) traceFilters.push(`end_time - start_time <= ${param(maxDurationMs)} * interval '1 millisecond'`);
  if (errorOnly) traceFilters.push("error_count > 0");
  if (attribute !== undefined) {
    // Spans are found by trace id (the primary key's prefix) within the trace's own time span (partition pruning).
    traceFilters.push(`EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = merged.trace_id
      AND s.start_time >= merged.start_time AND s.start_time <= merged.end_time
      AND s.attributes @> ${param(JSON.stringify({ [attribute.key]: attribute.value }))}::jsonb)`);
  }

  const sql = `
WITH hits AS (
  SELECT DISTINCT trace_id FROM traces
  WHERE day >= $3::date AND day <= $4::date AND start_time >= $1 AND start_time < $2
  ${rowFilters.map((f) => `AND ${f}`).join("\n  ")}
), merged AS (
  SELECT t.trace_id, min(t.start_time) AS start_time, max(t.end_time) AS end_time,
         sum(t.span_count)::int AS span_count, sum(t.error_count)::int AS error_count
  FROM traces t JOIN hits USING (trace_id)
  WHERE t.day >= $3::date - 1 AND t.day <= $4::date + 1
  GROUP BY t.trace_id
), newest AS (
  SELECT * FROM merged
  ${traceFilters.length > 0 ? `WHERE ${traceFilters.join("\n    AND ")}` : ""}
  ORDER BY start_time DESC, trace_id DESC
  LIMIT ${param(limit)}
)
SELECT n.trace_id, n.start_time, n.span_count, n.error_count,
       extract(epoch FROM n.end_time - n.start_time)::float8 * 1000 AS duration_ms,
       days.root_service, days.root_name, days.services
FROM newest n
CROSS JOIN LATERAL (
  SELECT (array_agg(t.root_service ORDER BY t.day) FILTER (WHERE t.root_service IS NOT NULL))[1] AS root_service,
         (array_agg(t.root_name ORDER BY t.day) FILTER (WHERE t.root_service IS NOT NULL))[1] AS root_name,
         (SELECT array_agg(DISTINCT s) FROM traces x CROSS JOIN unnest(x.services) s
           WHERE x.trace_id = n.trace_id AND x.day >= $3::date - 1 AND x.day <= $4::date + 1) AS services
  FROM traces t
  WHERE t.trace_id = n.trace_id AND t.day >= $3::date - 1 AND t.day <= $4::date + 1
) days
ORDER BY n.start_time DESC, n.trace_id DESC`;

  const { rows } = await pool.query<TraceRow>(sql, params);
  return rows.map((row) => ({
    traceId: row.trace_id,
    startTime: row.start_time,
    durationMs: row.duration_ms,
    spanCount: toNumber(row.span_count),
    errorCount: toNumber(row.error_count),
    rootService: row.root_service,
    rootName: row.root_name,
    services: (row.services ?? []).sort(compare),
  }));
}
