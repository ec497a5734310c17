// Test data for the trace and log queries: spans, their per-day traces rows, and log records, written by SQL. The
// traces rows are derived from the stored spans with the same expressions the migration uses, so they agree.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { dayOf, PartitionManager } from "../partitions.ts";

export type SpanInput = {
  traceId: string;
  spanId: string;
  parentSpanId?: string | null;
  service: string;
  name?: string;
  /** OTLP kind: 1 internal, 2 server, 3 client. */
  kind?: number;
  /** ISO time; microseconds are kept. */
  start: string;
  durationMs?: number;
  /** OTLP status: 2 is ERROR. */
  statusCode?: number;
  attributes?: Record<string, unknown>;
  events?: unknown[];
  links?: unknown[];
};

export async function insertSpanRows(pool: pg.Pool, spans: readonly SpanInput[]): Promise<void> {
  const partitions = new PartitionManager(pool);
  const days = spans.map((s) => dayOf(Date.parse(s.start)));
  await partitions.ensure("spans", days);
  await partitions.ensure("traces", days);
  for (const s of spans) {
    await pool.query(
      `INSERT INTO spans (trace_id, span_id, parent_span_id, service_name, service_namespace, service_version, name, kind,
         start_time, duration_ns, status_code, attributes, events, links)
       VALUES ($1, $2, $3, $4, 'default', 'v1', $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        s.traceId,
        s.spanId,
        s.parentSpanId ?? null,
        s.service,
        s.name ?? "GET /",
        s.kind ?? 2,
        s.start,
        Math.round((s.durationMs ?? 10) * 1e6),
        s.statusCode ?? 0,
        JSON.stringify(s.attributes ?? {}),
        JSON.stringify(s.events ?? []),
        JSON.stringify(s.links ?? []),
      ],
    );
  }
  const traceIds = [...new Set(spans.map((s) => s.traceId))];
  await pool.query("DELETE FROM traces WHERE trace_id = ANY($1)", [traceIds]);
  await pool.query(
    `INSERT INTO traces (trace_id, day, start_time, end_time, span_count, error_count, root_service, root_name, services, operations)
     SELECT trace_id, (start_time AT TIME ZONE 'UTC')::date, min(start_time),
       max(start_time + make_interval(secs => duration_ns / 1e9)), count(*)::int, count(*) FILTER (WHERE status_code = 2)::int,
       min(service_name) FILTER (WHERE parent_span_id IS NULL), min(name) FILTER (WHERE parent_span_id IS NULL),
       array_agg(DISTINCT service_name), array_agg(DISTINCT service_name || E'\\x1f' || name)
     FROM spans WHERE trace_id = ANY($1)
     GROUP BY trace_id, (start_time AT TIME ZONE 'UTC')::date`,
    [traceIds],
  );
}

export type LogInput = {
  time: string;
  service: string;
  path?: string;
  method?: string;
  responseCode?: number | null;
  responseFlags?: string;
  body?: string;
  bytesSent?: number;
};

/** Stores log records; returns their record ids in input order. */
export async function insertLogRows(pool: pg.Pool, logs: readonly LogInput[]): Promise<string[]> {
  await new PartitionManager(pool).ensure("log_records", logs.map((l) => dayOf(Date.parse(l.time))));
  const ids: string[] = [];
  for (const log of logs) {
    const id = randomUUID();
    ids.push(id);
    await pool.query(
      `INSERT INTO log_records (record_id, time, observed_time, service_name, severity_number, body, method, path,
         response_code, response_flags, bytes_sent, attributes)
       VALUES ($1, $2, $2, $3, 9, $4, $5, $6, $7, $8, $9, '{}')`,
      [id, log.time, log.service, log.body ?? null, log.method ?? "GET", log.path ?? "/", log.responseCode === undefined ? 200 : log.responseCode, log.responseFlags ?? "-", log.bytesSent ?? null],
    );
  }
  return ids;
}
