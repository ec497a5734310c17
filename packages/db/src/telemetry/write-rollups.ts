// RED contributions into red_10s and red_1m: summed per bucket and key in memory, then one upsert per table that
// adds counts, sums and histograms (element by element) to whatever the bucket already holds.
import type pg from "pg";
import { dayOf } from "./partitions.ts";
import { addToLastHour } from "./rollups/last-hour.ts";
import { ROLLUP_TABLES, toRollupRows, type RedContribution, type RollupRow } from "./rollups/red-contribution.ts";
import { toColumns } from "./sql-values.ts";

const KEY_COLUMNS =
  "source_namespace, source_service, source_workload, source_version, destination_namespace, destination_service, destination_workload, destination_version, protocol, response_class";

function upsertSql(table: string): string {
  return `INSERT INTO ${table} (bucket, ${KEY_COLUMNS}, requests, errors, mtls_requests, duration_sum_ms, duration_histogram)
SELECT to_timestamp(bucket_ms / 1000.0), sns, ssvc, swl, sver, dns, dsvc, dwl, dver, proto, class, req, err, mtls, dur, hist::int4[]
  FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
              $11::text[], $12::int8[], $13::int8[], $14::int8[], $15::float8[], $16::text[])
       AS u(bucket_ms, sns, ssvc, swl, sver, dns, dsvc, dwl, dver, proto, class, req, err, mtls, dur, hist)
ON CONFLICT (bucket, ${KEY_COLUMNS}) DO UPDATE SET
  requests = ${table}.requests + excluded.requests,
  errors = ${table}.errors + excluded.errors,
  mtls_requests = ${table}.mtls_requests + excluded.mtls_requests,
  duration_sum_ms = ${table}.duration_sum_ms + excluded.duration_sum_ms,
  duration_histogram = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
                               FROM unnest(${table}.duration_histogram, excluded.duration_histogram) WITH ORDINALITY AS h(a, b, i)
                              ORDER BY i)`;
}

const UPSERTS = new Map(ROLLUP_TABLES.map(({ table }) => [table, upsertSql(table)]));

export async function writeRollups(client: pg.PoolClient, contributions: readonly RedContribution[]): Promise<void> {
  if (contributions.length === 0) return;
  for (const { table, widthMs } of ROLLUP_TABLES) {
    const rows = toRollupRows(contributions, widthMs);
    await client.query(UPSERTS.get(table) as string, toColumns(rows, 16, rollupRow));
  }
  await addToLastHour(client, contributions);
}

function rollupRow(r: RollupRow): unknown[] {
  return [
    r.bucketMs,
    r.sourceNamespace,
    r.sourceService,
    r.sourceWorkload,
    r.sourceVersion,
    r.destinationNamespace,
    r.destinationService,
    r.destinationWorkload,
    r.destinationVersion,
    r.protocol,
    r.responseClass,
    r.requests,
    r.errors,
    r.mtlsRequests,
    r.durationSumMs,
    `{${r.histogram.join(",")}}`,
  ];
}

export function contributionDays(contributions: readonly RedContribution[]): Set<number> {
  return new Set(contributions.map((c) => dayOf(c.timeMs)));
}
