// The traffic of every caller → callee pair over a range, summed from the RED rollups in one grouped query: what
// the service graph and the services table are both built from. The service view groups by namespace and service
// on each side; the workload view also by version, so a canary is its own node.
import type pg from "pg";
import { queryTotals, readTotals, TOTALS_SQL, type RedTotals, type TotalsRow } from "./red-totals.ts";
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
  const where: string[] = [];
  const params: unknown[] = [];
  // red_last_hour holds only the window it stands for.
  if (range.table !== "red_last_hour") {
    params.push(range.from, range.to);
    where.push("bucket >= $1 AND bucket < $2");
  }
  if (namespace !== undefined) {
    params.push(namespace);
    where.push(`(source_namespace = $${params.length} OR destination_namespace = $${params.length})`);
  }
  const sql = `SELECT ${KEYS[view]}, ${TOTALS_SQL},
  ${PROTOCOLS.map((p) => `bool_or(protocol = '${p}') AS ${p}`).join(", ")}
FROM ${range.table}${where.length > 0 ? `\nWHERE ${where.join(" AND ")}` : ""}
GROUP BY ${KEYS[view]}`;
  const rows = await queryTotals<EdgeRow>(pool, sql, params);
  return rows.map((row) => ({
    source: { namespace: row.source_namespace, service: row.source_service, version: row.source_version ?? null },
    destination: { namespace: row.destination_namespace, service: row.destination_service, version: row.destination_version ?? null },
    protocols: PROTOCOLS.filter((p) => row[p]),
    totals: readTotals(row),
  }));
}
