// Rows in COPY's text format (tab-separated fields, \N for null, backslash escapes): the fastest way into Postgres —
// COPY inserts rows in multi-row groups where INSERT … SELECT goes row by row.
import type { SpanRecord } from "@trellis/otlp";
import { toJson } from "./sql-values.ts";

/** The spans table's columns, in the order spansCopyText writes them. */
export const SPAN_COPY_COLUMNS =
  "trace_id, span_id, parent_span_id, service_name, service_namespace, service_version, scope_name, name, kind, start_time, duration_ns, status_code, status_message, http_status_code, attributes, resource_attributes, events, links";

export function spansCopyText(spans: readonly SpanRecord[]): string {
  let text = "";
  // The spans of one resource share its attributes object: its JSON is made once.
  let resource: SpanRecord["resourceAttributes"] | undefined;
  let resourceJson = "";
  for (const s of spans) {
    if (s.resourceAttributes !== resource) {
      resource = s.resourceAttributes;
      resourceJson = field(JSON.stringify(resource));
    }
    // Attribute values hold no bigints (only event times do), so the plain, much faster JSON.stringify serves.
    text +=
      `${s.traceId}\t${s.spanId}\t${s.parentSpanId ?? "\\N"}\t${field(s.serviceName)}\t${field(s.serviceNamespace)}\t${field(s.serviceVersion)}\t` +
      `${field(s.scopeName)}\t${field(s.name)}\t${s.kind}\t${microsIso(s.startTimeUnixNano)}\t${s.endTimeUnixNano - s.startTimeUnixNano}\t` +
      `${s.statusCode}\t${field(s.statusMessage)}\t${s.httpStatusCode ?? "\\N"}\t${field(JSON.stringify(s.attributes))}\t` +
      `${resourceJson}\t${s.events.length === 0 ? "[]" : field(toJson(s.events))}\t${s.links.length === 0 ? "[]" : field(toJson(s.links))}\n`;
  }
  return text;
}

export function dayText(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

function field(value: string | null): string {
  if (value === null) return "\\N";
  return SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPES[c] as string) : value;
}

/** Unix nanoseconds → an ISO timestamp with microseconds, Postgres's precision. */
function microsIso(nanos: bigint): string {
  const micros = nanos / 1000n;
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return `${iso.slice(0, -1)}${(micros % 1000n).toString().padStart(3, "0")}Z`;
}
