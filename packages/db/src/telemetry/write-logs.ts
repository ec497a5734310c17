// Log records into `log_records`. A record's id is a digest of everything in it, so a resent batch stores each
// record once; access-log records (Istio's attribute names, from Trellis sidecars or from Envoy through a collector)
// also fill the columns logs.search filters on.
import { createHash } from "node:crypto";
import type pg from "pg";
import type { AttributeValue, Attributes, LogEntry } from "@trellis/otlp";
import { dayOf } from "./partitions.ts";
import { compare, microsToTimestamp, nanosToMicros, toColumns, toJson } from "./sql-values.ts";

const INSERT_LOGS = `INSERT INTO log_records (record_id, time, observed_time, service_name, service_namespace, service_version,
  severity_number, severity_text, body, trace_id, span_id, reporter, method, path, protocol, response_code, response_flags,
  duration_ms, bytes_received, bytes_sent, authority, upstream_host, upstream_cluster, request_id, attempt_count,
  source_workload, destination_workload, destination_service, attributes, resource_attributes)
SELECT id, ${microsToTimestamp("time_us")}, ${microsToTimestamp("observed_us")}, svc, ns, ver, sev, sevtext, body, t, s,
       reporter, method, path, protocol, code, flags, dur, rx, tx, authority, uhost, ucluster, rid, attempts, swl, dwl, dsvc, attrs, res
  FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::int2[], $8::text[], $9::text[],
              $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::int4[], $17::text[],
              $18::float8[], $19::int8[], $20::int8[], $21::text[], $22::text[], $23::text[], $24::text[], $25::int4[],
              $26::text[], $27::text[], $28::text[], $29::jsonb[], $30::jsonb[])
       AS u(id, time_us, observed_us, svc, ns, ver, sev, sevtext, body, t, s, reporter, method, path, protocol, code, flags,
            dur, rx, tx, authority, uhost, ucluster, rid, attempts, swl, dwl, dsvc, attrs, res)
ON CONFLICT (record_id, time) DO NOTHING`;

type Row = { id: string; entry: LogEntry; attributes: string; resource: string };

/** Stores log records; returns how many were new. */
export async function writeLogs(client: pg.PoolClient, logs: readonly LogEntry[]): Promise<number> {
  if (logs.length === 0) return 0;
  const byId = new Map<string, Row>();
  for (const entry of logs) {
    const attributes = toJson(entry.attributes);
    const resource = toJson(entry.resourceAttributes);
    const id = recordId(entry, attributes, resource);
    byId.set(id, { id, entry, attributes, resource });
  }
  const rows = [...byId.values()].sort((a, b) => compare(a.id, b.id));
  const result = await client.query(INSERT_LOGS, toColumns(rows, 30, logRow));
  return result.rowCount ?? 0;
}

function recordId(e: LogEntry, attributes: string, resource: string): string {
  const hex = createHash("sha256")
    .update(toJson([e.timeUnixNano, e.observedTimeUnixNano, e.serviceName, e.severityNumber, e.severityText, e.body, e.traceId, e.spanId, e.eventName, e.scopeName]))
    .update(attributes)
    .update(resource)
    .digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function logRow({ id, entry: e, attributes, resource }: Row): unknown[] {
  const a = e.attributes;
  return [
    id,
    nanosToMicros(e.timeUnixNano),
    nanosToMicros(e.observedTimeUnixNano),
    e.serviceName,
    e.serviceNamespace,
    e.serviceVersion,
    e.severityNumber,
    e.severityText,
    bodyText(e.body),
    e.traceId,
    e.spanId,
    text(a.reporter),
    text(a.method),
    text(a.path),
    text(a.protocol),
    int(a.response_code),
    text(a.response_flags),
    number(a.duration),
    int(a.bytes_received),
    int(a.bytes_sent),
    text(a.authority),
    text(a.upstream_host),
    text(a.upstream_cluster),
    text(a.request_id),
    int(a.attempt_count),
    text(a.source_workload),
    text(a.destination_workload),
    text(a.destination_service_name),
    attributes,
    resource,
  ];
}

function bodyText(body: AttributeValue): string | null {
  if (body === null) return null;
  return typeof body === "string" ? body : toJson(body);
}

/** Envoy prints "-" for a field it has no value for. */
function text(value: Attributes[string] | undefined): string | null {
  if (value === undefined || value === null || value === "" || value === "-") return null;
  return typeof value === "object" ? toJson(value) : String(value);
}

function number(value: Attributes[string] | undefined): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && value !== "" && value !== "-" ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function int(value: Attributes[string] | undefined): number | null {
  const n = number(value);
  return n === null ? null : Math.trunc(n);
}

export function logDays(logs: readonly LogEntry[]): Set<number> {
  const days = new Set<number>();
  for (const entry of logs) days.add(dayOf(Number(entry.timeUnixNano / 1_000_000n)));
  return days;
}
