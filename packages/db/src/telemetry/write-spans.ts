// Spans into `spans` (idempotent on trace id, span id and start time) and their traces' summaries into `traces`
// (start, end, span and error counts, root, services and operations — what traces.search filters on). Only spans
// this batch newly stored touch the summaries, so a resent batch changes nothing.
//
// The common case — none of the spans is stored yet — is one COPY (several times faster than INSERT … SELECT, which
// goes row by row). When COPY meets a span already stored (a batch resent after a lost answer), it fails as a
// whole; the batch then goes in with INSERT … ON CONFLICT DO NOTHING, which tells which spans were new. Trace
// summaries are upserted: a trace's spans come from many services, in many batches.
import { once } from "node:events";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { StatusCode, type SpanRecord } from "@trellis/otlp";
import { dayOf } from "./partitions.ts";
import { SPAN_COPY_COLUMNS, dayText, spansCopyText } from "./copy-text.ts";
import { compare, microsToTimestamp, nanosToMicros, toColumns, toJson } from "./sql-values.ts";

const COPY_SPANS = `COPY spans (${SPAN_COPY_COLUMNS}) FROM STDIN`;
const UNIQUE_VIOLATION = "23505";

const INSERT_SPANS = `INSERT INTO spans (${SPAN_COPY_COLUMNS})
SELECT t, s, p, svc, ns, ver, scope, name, kind, ${microsToTimestamp("start_us")}, dur, st, msg, http, attrs, res, ev, links
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int2[],
              $10::int8[], $11::int8[], $12::int2[], $13::text[], $14::int4[], $15::jsonb[], $16::jsonb[], $17::jsonb[], $18::jsonb[])
       AS u(t, s, p, svc, ns, ver, scope, name, kind, start_us, dur, st, msg, http, attrs, res, ev, links)
ON CONFLICT (trace_id, span_id, start_time) DO NOTHING
RETURNING trace_id, span_id`;

type TraceSummary = {
  traceId: string;
  /** UTC day number (ms / 86,400,000). */
  day: number;
  start: bigint;
  end: bigint;
  spans: number;
  errors: number;
  rootService: string | null;
  rootName: string | null;
  services: Set<string>;
  operations: Set<string>;
};

/** Separators inside the text that carries a row's arrays (names are cleaned of control characters by decoding). */
const LIST = "\u001e";
const PAIR = "\u001f";

const UPSERT_TRACES = `INSERT INTO traces (trace_id, day, start_time, end_time, span_count, error_count, root_service, root_name, services, operations)
SELECT t, day, ${microsToTimestamp("start_us")}, ${microsToTimestamp("end_us")}, spans, errors, root_service, root_name,
       string_to_array(services, E'\\x1e'), string_to_array(operations, E'\\x1e')
  FROM unnest($1::text[], $2::date[], $3::int8[], $4::int8[], $5::int4[], $6::int4[], $7::text[], $8::text[], $9::text[], $10::text[])
       AS u(t, day, start_us, end_us, spans, errors, root_service, root_name, services, operations)
ON CONFLICT (trace_id, day) DO UPDATE SET
  start_time = least(traces.start_time, excluded.start_time),
  end_time = greatest(traces.end_time, excluded.end_time),
  span_count = traces.span_count + excluded.span_count,
  error_count = traces.error_count + excluded.error_count,
  root_service = coalesce(excluded.root_service, traces.root_service),
  root_name = coalesce(excluded.root_name, traces.root_name),
  services = ARRAY(SELECT DISTINCT unnest(traces.services || excluded.services)),
  operations = ARRAY(SELECT DISTINCT unnest(traces.operations || excluded.operations))`;

/**
 * Stores spans and updates their traces; returns the spans that were new. It must be the first statement of the
 * caller's transaction: a COPY that meets a stored span rolls back the transaction (nothing else is in it yet) and
 * begins it again for the INSERT — cheaper than guarding every COPY with a savepoint for the rare resent batch.
 */
export async function writeSpans(client: pg.PoolClient, spans: readonly SpanRecord[]): Promise<SpanRecord[]> {
  if (spans.length === 0) return [];
  // One order for every writer, so two concurrent batches lock rows in the same order and cannot deadlock.
  const sorted = uniqueSpans(spans).sort((a, b) => compare(a.traceId, b.traceId) || compare(a.spanId, b.spanId));
  const fresh = (await copyAll(client, COPY_SPANS, spansCopyText(sorted))) ? sorted : await insertNew(client, sorted);
  if (fresh.length === 0) return [];
  // Traces upsert by primary key: probing which are known first cost more than the upsert saves over COPY.
  await client.query(UPSERT_TRACES, toColumns(summarise(fresh), 10, traceRow));
  return fresh;
}

/** A span listed twice in one batch is one span. */
function uniqueSpans(spans: readonly SpanRecord[]): SpanRecord[] {
  const byKey = new Map<string, SpanRecord>();
  for (const span of spans) byKey.set(`${span.traceId}${span.spanId}${span.startTimeUnixNano}`, span);
  return [...byKey.values()];
}

/** COPY; false when a row was already stored, after rolling back and beginning the transaction again. */
async function copyAll(client: pg.PoolClient, copy: string, text: string): Promise<boolean> {
  try {
    const stream = client.query(copyFrom(copy));
    stream.end(text);
    await once(stream, "finish");
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    await client.query("ROLLBACK");
    await client.query("BEGIN");
    return false;
  }
}

async function insertNew(client: pg.PoolClient, spans: readonly SpanRecord[]): Promise<SpanRecord[]> {
  const { rows } = await client.query<{ trace_id: string; span_id: string }>(INSERT_SPANS, toColumns(spans, 18, spanRow));
  const inserted = new Set(rows.map((row) => row.trace_id + row.span_id));
  return spans.filter((span) => inserted.has(span.traceId + span.spanId));
}

function spanRow(span: SpanRecord): unknown[] {
  return [
    span.traceId,
    span.spanId,
    span.parentSpanId,
    span.serviceName,
    span.serviceNamespace,
    span.serviceVersion,
    span.scopeName,
    span.name,
    span.kind,
    nanosToMicros(span.startTimeUnixNano),
    (span.endTimeUnixNano - span.startTimeUnixNano).toString(),
    span.statusCode,
    span.statusMessage,
    span.httpStatusCode,
    toJson(span.attributes),
    toJson(span.resourceAttributes),
    toJson(span.events),
    toJson(span.links),
  ];
}


function summarise(spans: readonly SpanRecord[]): TraceSummary[] {
  const byTraceDay = new Map<string, TraceSummary>();
  for (const span of spans) {
    const day = dayOf(Number(span.startTimeUnixNano / 1_000_000n));
    const id = `${span.traceId}:${day}`;
    let summary = byTraceDay.get(id);
    if (!summary) {
      summary = { traceId: span.traceId, day, start: span.startTimeUnixNano, end: span.endTimeUnixNano, spans: 0, errors: 0, rootService: null, rootName: null, services: new Set(), operations: new Set() };
      byTraceDay.set(id, summary);
    }
    if (span.startTimeUnixNano < summary.start) summary.start = span.startTimeUnixNano;
    if (span.endTimeUnixNano > summary.end) summary.end = span.endTimeUnixNano;
    summary.spans += 1;
    if (span.statusCode === StatusCode.ERROR) summary.errors += 1;
    if (span.parentSpanId === null) {
      summary.rootService = span.serviceName;
      summary.rootName = span.name;
    }
    summary.services.add(span.serviceName);
    summary.operations.add(`${span.serviceName}${PAIR}${span.name}`);
  }
  return [...byTraceDay.values()].sort((a, b) => compare(a.traceId, b.traceId) || a.day - b.day);
}

function traceRow(t: TraceSummary): unknown[] {
  return [
    t.traceId,
    dayText(t.day),
    nanosToMicros(t.start),
    nanosToMicros(t.end),
    t.spans,
    t.errors,
    t.rootService,
    t.rootName,
    [...t.services].join(LIST),
    [...t.operations].join(LIST),
  ];
}

/** UTC days the spans and their trace summaries go to (for partition creation). */
export function spanDays(spans: readonly SpanRecord[]): Set<number> {
  const days = new Set<number>();
  for (const span of spans) days.add(dayOf(Number(span.startTimeUnixNano / 1_000_000n)));
  return days;
}
