// The limit the ingest rate is compared with: the same spans, already decoded and already formatted, COPYed straight
// into the same `spans` table (same partitions, same indexes) over the same number of connections, one COPY per
// batch — what Postgres itself can take, with no OTLP, no validation, no idempotency and no trace summaries.
import { once } from "node:events";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { SpanRecord } from "@trellis/otlp";

const COLUMNS = "trace_id, span_id, parent_span_id, service_name, service_namespace, service_version, scope_name, name, kind, start_time, duration_ns, status_code, status_message, http_status_code, attributes, resource_attributes, events, links";

/** One batch as COPY text: a line per span, tab-separated, \N for null. */
export function toCopyText(spans: readonly SpanRecord[]): string {
  let text = "";
  for (const s of spans) {
    const fields = [
      s.traceId,
      s.spanId,
      s.parentSpanId,
      s.serviceName,
      s.serviceNamespace,
      s.serviceVersion,
      s.scopeName,
      s.name,
      String(s.kind),
      microsIso(s.startTimeUnixNano),
      String(s.endTimeUnixNano - s.startTimeUnixNano),
      String(s.statusCode),
      s.statusMessage,
      s.httpStatusCode === null ? null : String(s.httpStatusCode),
      json(s.attributes),
      json(s.resourceAttributes),
      json(s.events),
      json(s.links),
    ];
    text += `${fields.map(escape).join("\t")}\n`;
  }
  return text;
}

export async function rawCopy(pool: pg.Pool, batches: string[], connections: number, spansPerBatch: number): Promise<{ seconds: number; spansPerSecond: number }> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        for (let text = batches[next++]; text !== undefined; text = batches[next++]) {
          const stream = client.query(copyFrom(`COPY spans (${COLUMNS}) FROM STDIN`));
          stream.end(text);
          await once(stream, "finish");
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, spansPerSecond: (batches.length * spansPerBatch) / seconds };
}

function escape(value: string | null): string {
  if (value === null) return "\\N";
  return value.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

function json(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

function microsIso(nanos: bigint): string {
  const micros = nanos / 1000n;
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return `${iso.slice(0, -1)}${(micros % 1000n).toString().padStart(3, "0")}Z`;
}
