// logs.search: access-log and other log records, newest first, filtered on the columns ingest fills from the
// access-log fields, paged with a keyset cursor on (time, record_id) — stable while new records keep arriving.
import type pg from "pg";
import type { Attributes } from "@trellis/otlp";
import { decodeLogCursor, encodeLogCursor } from "./log-cursor.ts";
import { microsToTimestamp } from "../sql-values.ts";
import { resolveTimeRange, type TimeRangeInput } from "./query-helpers.ts";

export type StatusClass = "2xx" | "3xx" | "4xx" | "5xx";

export type LogRecordView = {
  recordId: string;
  time: Date;
  service: string;
  namespace: string | null;
  severityNumber: number;
  severityText: string | null;
  body: string | null;
  traceId: string | null;
  spanId: string | null;
  reporter: string | null;
  method: string | null;
  path: string | null;
  protocol: string | null;
  responseCode: number | null;
  /** Envoy's response flags, comma-joined ("-" for none). */
  responseFlags: string | null;
  durationMs: number | null;
  bytesReceived: number | null;
  bytesSent: number | null;
  authority: string | null;
  upstreamHost: string | null;
  requestId: string | null;
  attemptCount: number | null;
  sourceWorkload: string | null;
  destinationWorkload: string | null;
  destinationService: string | null;
  attributes: Attributes;
};

export type LogPage = { records: LogRecordView[]; /** Null on the last page. */ nextCursor: string | null };

export type FindLogsOptions = TimeRangeInput & {
  pool: pg.Pool;
  service?: string;
  statusClass?: StatusClass;
  /** One Envoy response flag, e.g. "UF": records whose flags include it. */
  responseFlags?: string;
  pathContains?: string;
  limit?: number;
  cursor?: string;
};

const DEFAULT_WINDOW_SECONDS = 3600;
export const DEFAULT_LOG_LIMIT = 50;

type LogRow = {
  record_id: string;
  time_us: string;
  service_name: string;
  service_namespace: string | null;
  severity_number: number;
  severity_text: string | null;
  body: string | null;
  trace_id: string | null;
  span_id: string | null;
  reporter: string | null;
  method: string | null;
  path: string | null;
  protocol: string | null;
  response_code: number | null;
  response_flags: string | null;
  duration_ms: number | null;
  bytes_received: string | null;
  bytes_sent: string | null;
  authority: string | null;
  upstream_host: string | null;
  request_id: string | null;
  attempt_count: number | null;
  source_workload: string | null;
  destination_workload: string | null;
  destination_service: string | null;
  attributes: Attributes;
};

export async function findLogs(options: FindLogsOptions): Promise<LogPage> {
  const { pool, service, statusClass, responseFlags, pathContains, limit = DEFAULT_LOG_LIMIT, cursor } = options;
  const range = resolveTimeRange(options, DEFAULT_WINDOW_SECONDS);
  const after = cursor === undefined ? null : decodeLogCursor(cursor);
  const params: unknown[] = [range.from, range.to];
  const param = (value: unknown) => `$${params.push(value)}`;

  const filters = ["time >= $1", "time < $2"];
  if (after) {
    // The plain time bound lets the time index stop early; the row comparison breaks ties on record_id.
    const at = microsToTimestamp(`${param(after.timeUs.toString())}::int8`);
    filters.push(`time <= ${at}`, `(time, record_id) < (${at}, ${param(after.recordId)}::uuid)`);
  }
  if (service !== undefined) filters.push(`service_name = ${param(service)}`);
  if (statusClass !== undefined) {
    const low = Number(statusClass[0]) * 100;
    filters.push(`response_code >= ${param(low)} AND response_code < ${param(low + 100)}`);
  }
  if (responseFlags !== undefined) filters.push(`${param(responseFlags)} = ANY (string_to_array(response_flags, ','))`);
  if (pathContains !== undefined) filters.push(`strpos(path, ${param(pathContains)}) > 0`);

  const { rows } = await pool.query<LogRow>(
    `SELECT record_id, (extract(epoch FROM time) * 1000000)::int8 AS time_us, service_name, service_namespace,
            severity_number, severity_text, body, trace_id, span_id, reporter, method, path, protocol, response_code,
            response_flags, duration_ms, bytes_received, bytes_sent, authority, upstream_host, request_id, attempt_count,
            source_workload, destination_workload, destination_service, attributes
     FROM log_records
     WHERE ${filters.join(" AND ")}
     ORDER BY time DESC, record_id DESC
     LIMIT ${param(limit + 1)}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    records: page.map(toView),
    nextCursor: rows.length > limit && last ? encodeLogCursor({ timeUs: BigInt(last.time_us), recordId: last.record_id }) : null,
  };
}

function toView(row: LogRow): LogRecordView {
  return {
    recordId: row.record_id,
    time: new Date(Number(BigInt(row.time_us) / 1000n)),
    service: row.service_name,
    namespace: row.service_namespace,
    severityNumber: row.severity_number,
    severityText: row.severity_text,
    body: row.body,
    traceId: row.trace_id,
    spanId: row.span_id,
    reporter: row.reporter,
    method: row.method,
    path: row.path,
    protocol: row.protocol,
    responseCode: row.response_code,
    responseFlags: row.response_flags,
    durationMs: row.duration_ms,
    bytesReceived: row.bytes_received === null ? null : Number(row.bytes_received),
    bytesSent: row.bytes_sent === null ? null : Number(row.bytes_sent),
    authority: row.authority,
    upstreamHost: row.upstream_host,
    requestId: row.request_id,
    attemptCount: row.attempt_count,
    sourceWorkload: row.source_workload,
    destinationWorkload: row.destination_workload,
    destinationService: row.destination_service,
    attributes: row.attributes,
  };
}
