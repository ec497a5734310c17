// traces.get: every span of one trace, in tree order with depths (span-tree.ts). Spans are found by trace id alone — the primary
// key's prefix, one index probe per daily partition — so a trace is complete whichever days its spans fall on.
import type pg from "pg";
import { AppError } from "@trellis/runtime";
import type { Attributes } from "@trellis/otlp";
import { orderSpanTree } from "./span-tree.ts";
import { compare } from "../sql-values.ts";
import { toNumber } from "./query-helpers.ts";

export const SPAN_KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"] as const;
export const STATUS_CODES = ["UNSET", "OK", "ERROR"] as const;

export type SpanEventView = { name: string; timeUnixNano: string; attributes: Attributes };
export type SpanLinkView = { traceId: string; spanId: string; traceState: string | null; attributes: Attributes };

export type TraceSpan = {
  spanId: string;
  parentSpanId: string | null;
  service: string;
  namespace: string | null;
  version: string | null;
  name: string;
  kind: (typeof SPAN_KINDS)[number];
  startTime: Date;
  /** Start relative to the trace's first span, in ms with the stored microsecond precision. */
  offsetMs: number;
  durationMs: number;
  status: { code: (typeof STATUS_CODES)[number]; message: string | null };
  attributes: Attributes;
  events: SpanEventView[];
  links: SpanLinkView[];
};


export type Trace = {
  traceId: string;
  startTime: Date;
  durationMs: number;
  spanCount: number;
  services: string[];
  /**
   * Every span in tree order: each followed by its subtree, children in start order. Depth 0 marks a root: the real
   * root, or a span whose parent was not received; roots come in start order.
   */
  spans: (TraceSpan & { depth: number })[];
};

export type FindTraceOptions = { pool: pg.Pool; traceId: string };

type SpanRow = {
  span_id: string;
  parent_span_id: string | null;
  service_name: string;
  service_namespace: string | null;
  service_version: string | null;
  name: string;
  kind: number;
  start_us: string;
  duration_ns: string;
  status_code: number;
  status_message: string | null;
  attributes: Attributes;
  events: { name: string; timeUnixNano: string | number; attributes?: Attributes }[];
  links: { traceId: string; spanId: string; traceState?: string | null; attributes?: Attributes }[];
};

const SQL = `
SELECT span_id, parent_span_id, service_name, service_namespace, service_version, name, kind,
       (extract(epoch FROM start_time) * 1000000)::int8 AS start_us, duration_ns, status_code, status_message,
       attributes, events, links
FROM spans
WHERE trace_id = $1`;

export async function findTrace({ pool, traceId }: FindTraceOptions): Promise<Trace> {
  const id = traceId.toLowerCase();
  const { rows } = await pool.query<SpanRow>(SQL, [id]);
  if (rows.length === 0) throw new AppError("NOT_FOUND", `no trace with id ${id} is stored (it may be older than the retention, or not received yet)`);

  // Microseconds as bigint until the trace's start is known: epoch microseconds lose precision as a double of ms;
  // offsets from the trace's start do not.
  const timed = rows.map((row) => {
    const startUs = BigInt(row.start_us);
    return { row, startUs, endUs: startUs + BigInt(row.duration_ns) / 1000n };
  });
  const first = timed[0]?.startUs ?? 0n;
  const startUs = timed.reduce((min, t) => (t.startUs < min ? t.startUs : min), first);
  const endUs = timed.reduce((max, t) => (t.endUs > max ? t.endUs : max), first);

  return {
    traceId: id,
    startTime: new Date(Number(startUs / 1000n)),
    durationMs: Number(endUs - startUs) / 1000,
    spanCount: rows.length,
    services: [...new Set(rows.map((row) => row.service_name))].sort(compare),
    spans: orderSpanTree(timed.map((t) => toSpan(t.row, t.startUs, startUs))),
  };
}

function toSpan(row: SpanRow, startUs: bigint, traceStartUs: bigint): TraceSpan {
  return {
    spanId: row.span_id,
    parentSpanId: row.parent_span_id,
    service: row.service_name,
    namespace: row.service_namespace,
    version: row.service_version,
    name: row.name,
    kind: SPAN_KINDS[row.kind] ?? "UNSPECIFIED",
    startTime: new Date(Number(startUs / 1000n)),
    offsetMs: Number(startUs - traceStartUs) / 1000,
    durationMs: toNumber(row.duration_ns) / 1e6,
    status: { code: STATUS_CODES[row.status_code] ?? "UNSET", message: row.status_message },
    attributes: row.attributes,
    events: row.events.map((e) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attributes: e.attributes ?? {} })),
    links: row.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState ?? null, attributes: l.attributes ?? {} })),
  };
}
