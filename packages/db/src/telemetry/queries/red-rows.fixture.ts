// Test data for the rollup queries: RED rollup rows written by SQL the way the ingest path keeps them — each row
// into its 10 s bucket of red_10s and added into its minute of red_1m — with latencies recorded in the histogram.
import type pg from "pg";
import { emptyHistogram, record } from "../latency-histogram.ts";
import { dayOf, PartitionManager } from "../partitions.ts";
import { alignDown, type BucketTable } from "./rollup-range.ts";

export type Peer = { service: string; namespace?: string; version?: string; workload?: string };

export type RedRowInput = {
  at: Date;
  source: Peer;
  destination: Peer;
  protocol?: "http" | "grpc" | "tcp";
  responseClass?: "2xx" | "3xx" | "4xx" | "5xx" | "0";
  requests: number;
  /** Defaults to every request for 5xx and 0 (no response), none otherwise. */
  errors?: number;
  mtlsRequests?: number;
  /** Every request took this long (ms), or one latency per request. */
  latencyMs?: number | number[];
  /** Both by default. */
  tables?: BucketTable[];
};

const BUCKET_SECONDS: Record<BucketTable, number> = { red_10s: 10, red_1m: 60 };

function sql(table: BucketTable): string {
  return `INSERT INTO ${table} (bucket, source_namespace, source_service, source_workload, source_version,
    destination_namespace, destination_service, destination_workload, destination_version, protocol, response_class,
    requests, errors, mtls_requests, duration_sum_ms, duration_histogram)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
  ON CONFLICT ON CONSTRAINT ${table}_pkey DO UPDATE SET
    requests = ${table}.requests + excluded.requests,
    errors = ${table}.errors + excluded.errors,
    mtls_requests = ${table}.mtls_requests + excluded.mtls_requests,
    duration_sum_ms = ${table}.duration_sum_ms + excluded.duration_sum_ms,
    duration_histogram = ARRAY(SELECT a + b FROM unnest(${table}.duration_histogram, excluded.duration_histogram) AS h(a, b))`;
}

function peerColumns(peer: Peer): string[] {
  const version = peer.version ?? "v1";
  return [peer.namespace ?? "default", peer.service, peer.workload ?? `${peer.service}-${version}`, version];
}

export async function insertRedRows(pool: pg.Pool, rows: readonly RedRowInput[]): Promise<void> {
  const partitions = new PartitionManager(pool);
  for (const row of rows) {
    const responseClass = row.responseClass ?? "2xx";
    const latencies = Array.isArray(row.latencyMs) ? row.latencyMs : Array<number>(row.requests).fill(row.latencyMs ?? 10);
    const histogram = emptyHistogram();
    for (const ms of latencies) record(histogram, ms);
    const errors = row.errors ?? (responseClass === "5xx" || responseClass === "0" ? row.requests : 0);
    for (const table of row.tables ?? (["red_10s", "red_1m"] as const)) {
      await partitions.ensure(table, [dayOf(row.at.getTime())]);
      await pool.query(sql(table), [
        alignDown(row.at, BUCKET_SECONDS[table]),
        ...peerColumns(row.source),
        ...peerColumns(row.destination),
        row.protocol ?? "http",
        responseClass,
        row.requests,
        errors,
        row.mtlsRequests ?? row.requests,
        latencies.reduce((sum, ms) => sum + ms, 0),
        histogram,
      ]);
    }
  }
}
