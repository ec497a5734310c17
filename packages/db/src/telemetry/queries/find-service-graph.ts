// The live service graph: one node per service version that had traffic in the window, one edge per caller →
// callee pair, found by joining each CLIENT span to the SERVER span it is the parent of (same trace).
import type pg from "pg";
import { compareText, nsToMs, resolveObservedWindow, toNumber } from "./query-helpers.ts";

/**
 * A workload version. `id` is `service@version`, or just `service` when the spans carry no service.version;
 * it is stable across refreshes, so the graph can key positions by it. Namespaces are not part of the id:
 * the same service name in two namespaces is one node (the demo mesh has one namespace).
 */
export type GraphNode = {
  id: string;
  service: string;
  namespace: string;
  version: string | null;
  /** Requests per second this version received (its SERVER spans); 0 for a workload that only made calls. */
  requestRate: number;
  errorRate: number;
};

/**
 * Calls from `source` to `target` (node ids) as the caller saw them: one per CLIENT span whose request reached
 * the callee (a retried request that reached it twice counts twice). `p50Ms` is the caller's latency.
 */
export type GraphEdge = { source: string; target: string; requestRate: number; errorRate: number; p50Ms: number };

export type ServiceGraph = { nodes: GraphNode[]; edges: GraphEdge[] };

export type FindServiceGraphOptions = { pool: pg.Pool; windowSeconds: number; now?: Date };

type NodeRow = { service: string; version: string | null; namespace: string; requests: string; errors: string };
type EdgeRow = {
  source_service: string;
  source_version: string | null;
  source_namespace: string;
  target_service: string;
  target_version: string | null;
  target_namespace: string;
  requests: string;
  errors: string;
  p50_ns: number;
};

const NODES_SQL = `
SELECT service_name AS service, service_version AS version,
       min(coalesce(service_namespace, 'default')) AS namespace,
       count(*) AS requests,
       count(*) FILTER (WHERE status_code = 2) AS errors
FROM spans
WHERE start_time >= $1 AND start_time <= $2 AND kind = 2
GROUP BY service_name, service_version`;

// Driven by the window's CLIENT spans (spans_start_time_idx), each joined to its child through
// spans_parent_span_id_idx. The child's start_time bound is implied (it starts while the client span runs) but
// stated, with a minute of slack for clock skew, so a time-partitioned spans table only scans nearby partitions.
// An edge counts as failed when the callee failed, or the caller got no HTTP answer or a 5xx (timeout, reset);
// a 4xx marks the client span as an error in OpenTelemetry but is the caller's mistake, not the edge's.
const EDGES_SQL = `
SELECT c.service_name AS source_service, c.service_version AS source_version,
       min(coalesce(c.service_namespace, 'default')) AS source_namespace,
       s.service_name AS target_service, s.service_version AS target_version,
       min(coalesce(s.service_namespace, 'default')) AS target_namespace,
       count(*) AS requests,
       count(*) FILTER (
         WHERE s.status_code = 2 OR (c.status_code = 2 AND (c.http_status_code IS NULL OR c.http_status_code >= 500))
       ) AS errors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ns::float8) AS p50_ns
FROM spans c
JOIN spans s ON s.parent_span_id = c.span_id AND s.trace_id = c.trace_id
WHERE c.start_time >= $1 AND c.start_time <= $2 AND c.kind = 3
  AND s.kind = 2
  AND s.start_time >= $1::timestamptz - interval '1 minute' AND s.start_time <= $2::timestamptz + interval '1 minute'
GROUP BY c.service_name, c.service_version, s.service_name, s.service_version`;

export function toNodeId(service: string, version: string | null): string {
  return version ? `${service}@${version}` : service;
}

export async function findServiceGraph({ pool, windowSeconds, now }: FindServiceGraphOptions): Promise<ServiceGraph> {
  const window = await resolveObservedWindow(pool, { windowSeconds, now });
  const params = [window.from, window.to];
  const [nodeResult, edgeResult] = await Promise.all([pool.query<NodeRow>(NODES_SQL, params), pool.query<EdgeRow>(EDGES_SQL, params)]);

  const nodes = new Map<string, GraphNode>();
  for (const row of nodeResult.rows) {
    const requests = toNumber(row.requests);
    const id = toNodeId(row.service, row.version);
    nodes.set(id, {
      id,
      service: row.service,
      namespace: row.namespace,
      version: row.version,
      requestRate: requests / window.seconds,
      errorRate: requests === 0 ? 0 : toNumber(row.errors) / requests,
    });
  }

  // A caller that received nothing in the window (a gateway fed by a load generator, a cron job) is still drawn,
  // and so is a callee whose server span started just after the window closed.
  const ensureNode = (service: string, version: string | null, namespace: string): string => {
    const id = toNodeId(service, version);
    if (!nodes.has(id)) nodes.set(id, { id, service, namespace, version, requestRate: 0, errorRate: 0 });
    return id;
  };
  const edges: GraphEdge[] = edgeResult.rows.map((row) => {
    const requests = toNumber(row.requests);
    return {
      source: ensureNode(row.source_service, row.source_version, row.source_namespace),
      target: ensureNode(row.target_service, row.target_version, row.target_namespace),
      requestRate: requests / window.seconds,
      errorRate: requests === 0 ? 0 : toNumber(row.errors) / requests,
      p50Ms: nsToMs(row.p50_ns) ?? 0,
    };
  });

  return {
    nodes: [...nodes.values()].sort((a, b) => compareText(a.id, b.id)),
    edges: edges.sort((a, b) => compareText(a.source, b.source) || compareText(a.target, b.target)),
  };
}
