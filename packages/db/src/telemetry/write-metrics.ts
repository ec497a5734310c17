// Metric points into `metric_series` (one row per series: name, kind, resource and point attributes) and
// `metric_points` (idempotent on series and time). Points of istio_request_duration_milliseconds also become RED
// contributions: their delta against the series' last point, which is kept in metric_series and locked while
// a batch computes it, so two ingest replicas cannot both count the same interval.
import { createHash } from "node:crypto";
import type pg from "pg";
import type { MetricPointRecord } from "@trellis/otlp";
import { dayOf } from "./partitions.ts";
import { ISTIO_DURATION, contributionFromIstio, deltaOf, type SeriesState } from "./rollups/from-metrics.ts";
import type { RedContribution } from "./rollups/red-contribution.ts";
import { compare, microsToTimestamp, nanosToMicros, toColumns, toJson } from "./sql-values.ts";

const INSERT_SERIES = `INSERT INTO metric_series (series_id, name, kind, unit, temporality, service_name, attributes, resource_attributes)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[])
ON CONFLICT (series_id) DO NOTHING`;

const LOCK_STATES = `SELECT series_id, (extract(epoch FROM last_start_time) * 1000)::float8 AS start_ms,
       (extract(epoch FROM last_time) * 1000)::float8 AS time_ms, last_count, last_sum, last_bucket_counts
  FROM metric_series WHERE series_id = ANY($1::uuid[]) AND last_time IS NOT NULL
 ORDER BY series_id FOR UPDATE`;

const SAVE_STATES = `UPDATE metric_series m SET last_start_time = ${microsToTimestamp("u.start_us")}, last_time = ${microsToTimestamp("u.time_us")},
       last_count = u.count, last_sum = u.sum, last_bucket_counts = u.buckets::float8[]
  FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::float8[], $5::float8[], $6::text[]) AS u(id, start_us, time_us, count, sum, buckets)
 WHERE m.series_id = u.id`;

const INSERT_POINTS = `INSERT INTO metric_points (series_id, time, start_time, value, count, sum, min, max, bounds, bucket_counts)
SELECT id, ${microsToTimestamp("time_us")}, ${microsToTimestamp("start_us")}, value, count, sum, min, max, bounds::float8[], buckets::float8[]
  FROM unnest($1::uuid[], $2::int8[], $3::int8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::text[])
       AS u(id, time_us, start_us, value, count, sum, min, max, bounds, buckets)
ON CONFLICT (series_id, time) DO NOTHING
RETURNING series_id, (extract(epoch FROM time) * 1000000)::int8::text AS time_us`;

type Point = { seriesId: string; point: MetricPointRecord };

/** Stores metric points; returns how many were new and the RED contributions of the new Istio duration points. */
export async function writeMetrics(client: pg.PoolClient, points: readonly MetricPointRecord[]): Promise<{ stored: number; contributions: RedContribution[] }> {
  if (points.length === 0) return { stored: 0, contributions: [] };
  const byKey = new Map<string, Point>();
  const series = new Map<string, MetricPointRecord>();
  for (const point of points) {
    const seriesId = seriesIdOf(point);
    series.set(seriesId, point);
    byKey.set(`${seriesId}:${point.timeUnixNano}`, { seriesId, point });
  }
  const ordered = [...byKey.values()].sort((a, b) => compare(a.seriesId, b.seriesId) || Number(a.point.timeUnixNano - b.point.timeUnixNano));
  const seriesRows = [...series.entries()].sort(([a], [b]) => compare(a, b));
  await client.query(INSERT_SERIES, toColumns(seriesRows, 8, ([id, p]) => [id, p.name, p.kind, p.unit, p.temporality, p.serviceName, toJson(p.attributes), toJson(p.resourceAttributes)]));

  // The series RED is built from, and their last points, locked until this transaction ends.
  const red = ordered.filter(({ point }) => point.name === ISTIO_DURATION && (point.kind === "histogram" || point.kind === "exponential_histogram"));
  const redIds = [...new Set(red.map((p) => p.seriesId))];
  const states = new Map<string, SeriesState>();
  if (redIds.length > 0) {
    const { rows } = await client.query<{ series_id: string; start_ms: number; time_ms: number; last_count: number; last_sum: number; last_bucket_counts: number[] | null }>(LOCK_STATES, [redIds]);
    for (const row of rows) states.set(row.series_id, { startMs: row.start_ms, timeMs: row.time_ms, count: row.last_count, sum: row.last_sum, bucketCounts: row.last_bucket_counts ?? [] });
  }

  const { rows: inserted } = await client.query<{ series_id: string; time_us: string }>(INSERT_POINTS, toColumns(ordered, 10, pointRow));
  const fresh = new Set(inserted.map((row) => `${row.series_id}:${row.time_us}`));
  // A process whose other series we already follow: a series of it we have not seen is new since its last export.
  const knownProcesses = new Set(red.filter((p) => states.has(p.seriesId)).map((p) => processOf(p.point)));
  const contributions: RedContribution[] = [];
  const changed = new Map<string, SeriesState>();
  for (const { seriesId, point } of red) {
    if (!fresh.has(`${seriesId}:${nanosToMicros(point.timeUnixNano)}`)) continue; // stored before: counted before
    const { delta, state } = deltaOf(point, states.get(seriesId) ?? null, knownProcesses.has(processOf(point)));
    if (state && state !== states.get(seriesId)) {
      states.set(seriesId, state);
      changed.set(seriesId, state);
    }
    const contribution = delta && contributionFromIstio(point, delta);
    if (contribution) contributions.push(contribution);
  }
  if (changed.size > 0) {
    const rows = [...changed.entries()];
    await client.query(SAVE_STATES, toColumns(rows, 6, ([id, s]) => [id, String(Math.round(s.startMs * 1000)), String(Math.round(s.timeMs * 1000)), s.count, s.sum, `{${s.bucketCounts.join(",")}}`]));
  }
  return { stored: inserted.length, contributions };
}

function processOf(point: MetricPointRecord): string {
  return canonicalJson(point.resourceAttributes);
}

/** A series is its name, kind, unit, resource and point attributes (as OpenTelemetry defines a stream's identity). */
function seriesIdOf(p: MetricPointRecord): string {
  const hex = createHash("sha256").update(canonicalJson([p.name, p.kind, p.unit, p.scopeName, p.resourceAttributes, p.attributes])).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** JSON with object keys sorted, so the same attributes in another order name the same series. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compare(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return toJson(value);
}

function pointRow({ seriesId, point: p }: Point): unknown[] {
  return [
    seriesId,
    nanosToMicros(p.timeUnixNano),
    p.startTimeUnixNano > 0n ? nanosToMicros(p.startTimeUnixNano) : null,
    p.value,
    p.count,
    p.sum,
    p.min,
    p.max,
    p.bounds.length > 0 ? `{${p.bounds.join(",")}}` : null,
    p.bucketCounts.length > 0 ? `{${p.bucketCounts.join(",")}}` : null,
  ];
}

export function metricDays(points: readonly MetricPointRecord[]): Set<number> {
  const days = new Set<number>();
  for (const p of points) days.add(dayOf(Number(p.timeUnixNano / 1_000_000n)));
  return days;
}
