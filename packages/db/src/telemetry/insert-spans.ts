// The span write path: one multi-row INSERT per batch via unnest() (one round trip, one plan, no per-row
// statements); ON CONFLICT on (trace_id, span_id) makes a retried batch store nothing twice.
import type pg from "pg";
import type { SpanRecord } from "@trellis/otlp";

const COLUMNS = [
  ["trace_id", "text"],
  ["span_id", "text"],
  ["parent_span_id", "text"],
  ["service_name", "text"],
  ["service_namespace", "text"],
  ["service_version", "text"],
  ["name", "text"],
  ["kind", "int2"],
  ["start_time", "timestamptz"],
  ["duration_ns", "int8"],
  ["status_code", "int2"],
  ["status_message", "text"],
  ["http_status_code", "int4"],
  ["attributes", "jsonb"],
  ["resource_attributes", "jsonb"],
  ["events", "jsonb"],
] as const;

const INSERT_SQL = `INSERT INTO spans (${COLUMNS.map(([name]) => name).join(", ")})
SELECT * FROM unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
ON CONFLICT (trace_id, span_id, start_time) DO NOTHING`;

/** Stores spans; returns how many were new (a retried batch returns 0). */
export async function insertSpans(pool: pg.Pool, spans: readonly SpanRecord[]): Promise<number> {
  if (spans.length === 0) return 0;
  const columns: unknown[][] = COLUMNS.map(() => new Array<unknown>(spans.length));
  spans.forEach((span, i) => {
    const values = toRow(span);
    values.forEach((value, c) => {
      (columns[c] as unknown[])[i] = value;
    });
  });
  const result = await pool.query(INSERT_SQL, columns);
  return result.rowCount ?? 0;
}

function toRow(span: SpanRecord): unknown[] {
  const startMicros = span.startTimeUnixNano / 1000n;
  return [
    span.traceId,
    span.spanId,
    span.parentSpanId,
    span.serviceName,
    span.serviceNamespace,
    span.serviceVersion,
    span.name,
    span.kind,
    // Postgres timestamps hold microseconds; the ISO string keeps them (a JS Date would keep only milliseconds).
    microsToIso(startMicros),
    (span.endTimeUnixNano - span.startTimeUnixNano).toString(),
    span.statusCode,
    span.statusMessage,
    span.httpStatusCode,
    JSON.stringify(span.attributes),
    JSON.stringify(span.resourceAttributes),
    JSON.stringify(span.events, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
  ];
}

function microsToIso(micros: bigint): string {
  const millis = micros / 1000n;
  const rest = (micros % 1000n).toString().padStart(3, "0");
  const iso = new Date(Number(millis)).toISOString(); // 2026-01-01T00:00:00.123Z
  return `${iso.slice(0, -1)}${rest}Z`;
}
