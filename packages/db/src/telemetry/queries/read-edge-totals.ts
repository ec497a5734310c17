// The traffic of every caller → callee pair over a range, summed from the RED rollups in one grouped query: what
// the service graph and the services table are both built from. The service view groups by namespace and service
// on each side; the workload view also by version, so a canary is its own node.
import type pg from "pg";
import { addTotals, queryTotals, readTotals, TOTALS_SQL, type RedTotals, type TotalsRow } from "./red-totals.ts";
import type { RollupRange } from "./rollup-range.ts";

export type GraphView = "service" | "workload";

export const PROTOCOLS = ["http", "grpc", "tcp"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** One side of an edge; version is null in the service view. */
export type Endpoint = { namespace: string; service: string; version: string | null };

export type EdgeTotals = { source: Endpoint; destination: Endpoint; protocols: Protocol[]; totals: RedTotals };

export type ReadEdgeTotalsOptions = { pool: pg.Pool; range: RollupRange; view: GraphView; namespace?: string };

type EdgeRow = TotalsRow & {
  source_namespace: string;
  source_service: string;
  source_version?: string;
  destination_namespace: string;
  destination_service: string;
  destination_version?: string;
  http: boolean;
  grpc: boolean;
  tcp: boolean;
};

const KEYS: Record<GraphView, string> = {
  service: "source_namespace, source_service, destination_namespace, destination_service",
  workload: "source_namespace, source_service, source_version, destination_namespace, destination_service, destination_version",
};

/** Edges into or out of `namespace` when one is given (an edge crossing namespaces belongs to both). */
export async function readEdgeTotals({ pool, range, view, namespace }: ReadEdgeTotalsOptions): Promise<EdgeTotals[]> {
  if (range.table === "red_last_hour") return readLastHour(pool, view, namespace);
  const params: unknown[] = [range.from, range.to];
  if (namespace !== undefined) params.push(namespace);
  const sql = `SELECT ${KEYS[view]}, ${TOTALS_SQL},
  ${PROTOCOLS.map((p) => `bool_or(protocol = '${p}') AS ${p}`).join(", ")}
FROM ${range.table}
WHERE bucket >= $1 AND bucket < $2${namespace !== undefined ? " AND (source_namespace = $3 OR destination_namespace = $3)" : ""}
GROUP BY ${KEYS[view]}`;
  const rows = await queryTotals<EdgeRow>(pool, sql, params);
  return rows.map((row) => ({
    source: { namespace: row.source_namespace, service: row.source_service, version: row.source_version ?? null },
    destination: { namespace: row.destination_namespace, service: row.destination_service, version: row.destination_version ?? null },
    protocols: PROTOCOLS.filter((p) => row[p]),
    totals: readTotals(row),
  }));
}

type LastHourRow = TotalsRow & {
  source_namespace: string;
  source_service: string;
  source_version: string;
  destination_namespace: string;
  destination_service: string;
  destination_version: string;
  protocol: Protocol;
};

/**
 * red_last_hour already holds one row per edge and protocol: its rows are read as they are (no per-bucket sums for
 * Postgres to run) and folded into the view's edges here.
 */
async function readLastHour(pool: pg.Pool, view: GraphView, namespace: string | undefined): Promise<EdgeTotals[]> {
  const { rows } = await pool.query<LastHourRow>(
    `SELECT source_namespace, source_service, source_version, destination_namespace, destination_service, destination_version, protocol,
            requests::float8 AS requests, errors::float8 AS errors, mtls_requests::float8 AS mtls_requests,
            array_to_string(duration_histogram, ',', '0') AS histogram
       FROM red_last_hour${namespace !== undefined ? " WHERE source_namespace = $1 OR destination_namespace = $1" : ""}`,
    namespace !== undefined ? [namespace] : [],
  );
  const edges = new Map<string, EdgeTotals>();
  for (const row of rows) {
    const version = (v: string) => (view === "workload" ? v : null);
    const source = { namespace: row.source_namespace, service: row.source_service, version: version(row.source_version) };
    const destination = { namespace: row.destination_namespace, service: row.destination_service, version: version(row.destination_version) };
    const key = [source.namespace, source.service, source.version, destination.namespace, destination.service, destination.version].join("\u0000");
    const edge = edges.get(key);
    if (!edge) {
      edges.set(key, { source, destination, protocols: [row.protocol], totals: readTotals(row) });
      continue;
    }
    if (!edge.protocols.includes(row.protocol)) edge.protocols.push(row.protocol);
    addTotals(edge.totals, readTotals(row));
  }
  for (const edge of edges.values()) edge.protocols.sort((a, b) => PROTOCOLS.indexOf(a) - PROTOCOLS.indexOf(b));
  return [...edges.values()];
}
