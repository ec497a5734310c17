// What one piece of telemetry adds to the RED rollups: requests of one edge (source workload → destination
// workload, with versions, protocol and response class) at one time, with their errors, mTLS share and latency
// histogram. Contributions with the same key and bucket are summed before they are written.
import { BUCKET_COUNT, emptyHistogram, mergeInto } from "../latency-histogram.ts";

export type EdgeKey = {
  sourceNamespace: string;
  sourceService: string;
  sourceWorkload: string;
  sourceVersion: string;
  destinationNamespace: string;
  destinationService: string;
  destinationWorkload: string;
  destinationVersion: string;
  /** http | grpc | tcp */
  protocol: string;
  /** 2xx | 3xx | 4xx | 5xx | 0 (no response) */
  responseClass: string;
};

export type RedContribution = EdgeKey & {
  /** Unix ms the requests are attributed to. */
  timeMs: number;
  requests: number;
  errors: number;
  mtlsRequests: number;
  durationSumMs: number;
  /** BUCKET_COUNT counts (latency-histogram.ts). */
  histogram: number[];
};

export const UNKNOWN = "unknown";

/** The two rollup tables and their bucket widths. */
export const ROLLUP_TABLES = [
  { table: "red_10s", widthMs: 10_000 },
  { table: "red_1m", widthMs: 60_000 },
] as const;

export type RollupRow = EdgeKey & {
  bucketMs: number;
  requests: number;
  errors: number;
  mtlsRequests: number;
  durationSumMs: number;
  histogram: number[];
};

/** SQL summing a group's rollup histograms element by element: one sum per bucket (Postgres has no array sum). */
export const HISTOGRAM_SUMS_SQL = Array.from({ length: BUCKET_COUNT }, (_, i) => `sum(duration_histogram[${i + 1}])`).join(", ");

export function responseClassOf(code: number | null | undefined): string {
  if (!code || code < 100 || code > 599) return "0";
  return `${Math.floor(code / 100)}xx`;
}

const KEY_FIELDS = [
  "sourceNamespace",
  "sourceService",
  "sourceWorkload",
  "sourceVersion",
  "destinationNamespace",
  "destinationService",
  "destinationWorkload",
  "destinationVersion",
  "protocol",
  "responseClass",
] as const satisfies readonly (keyof EdgeKey)[];

/**
 * Sums contributions into rows of one bucket width, sorted by bucket and key (so concurrent writers lock rows in
 * the same order and cannot deadlock).
 */
export function toRollupRows(contributions: readonly RedContribution[], widthMs: number): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const c of contributions) {
    const bucketMs = Math.floor(c.timeMs / widthMs) * widthMs;
    const id = `${bucketMs}\u0000${KEY_FIELDS.map((field) => c[field]).join("\u0000")}`;
    let row = rows.get(id);
    if (!row) {
      row = { bucketMs, requests: 0, errors: 0, mtlsRequests: 0, durationSumMs: 0, histogram: emptyHistogram(), ...pickKey(c) };
      rows.set(id, row);
    }
    row.requests += c.requests;
    row.errors += c.errors;
    row.mtlsRequests += c.mtlsRequests;
    row.durationSumMs += c.durationSumMs;
    mergeInto(row.histogram, c.histogram);
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

function pickKey(c: EdgeKey): EdgeKey {
  const key = {} as EdgeKey;
  for (const field of KEY_FIELDS) key[field] = c[field];
  return key;
}

export { KEY_FIELDS, BUCKET_COUNT };
