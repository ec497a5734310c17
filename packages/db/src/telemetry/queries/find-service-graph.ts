// topology.graph: the service graph over a range, from the RED rollups. Edges are caller → callee pairs with their
// traffic; a node's numbers are its inbound traffic (the merged histograms of the edges into it), and a node that
// only calls others (a gateway fed from outside, a cron job) is drawn too, with zero inbound traffic.
import type pg from "pg";
import { addTotals, emptyTotals, summarize, type RedSummary, type RedTotals } from "./red-totals.ts";
import { readEdgeTotals, type Endpoint, type GraphView, type Protocol } from "./read-edge-totals.ts";
import { resolveRollupRange } from "./rollup-range.ts";
import { compare } from "../sql-values.ts";
import { resolveTimeRange, type TimeRangeInput } from "./query-helpers.ts";

/**
 * A service (service view) or a service version (workload view). `id` is `service.namespace`, plus `@version` in
 * the workload view — stable across refreshes, so the graph can key positions by it.
 */
export type GraphNode = RedSummary & { id: string; service: string; namespace: string; version: string | null };

/** Traffic from `source` to `target` (node ids), counted once per request. */
export type GraphEdge = RedSummary & {
  source: string;
  target: string;
  /** Share of requests sent over mutual TLS, 0..1. */
  mtlsShare: number;
  protocols: Protocol[];
};

export type ServiceGraph = { nodes: GraphNode[]; edges: GraphEdge[] };

export type FindServiceGraphOptions = TimeRangeInput & {
  pool: pg.Pool;
  /** "workload" (default): one node per service version; "service": one per service. */
  view?: GraphView;
  /** Only edges into or out of this namespace. */
  namespace?: string;
};

const DEFAULT_WINDOW_SECONDS = 300;

export function toNodeId({ service, namespace, version }: Endpoint): string {
  return version === null ? `${service}.${namespace}` : `${service}.${namespace}@${version}`;
}

export async function findServiceGraph({ pool, view = "workload", namespace, ...rangeInput }: FindServiceGraphOptions): Promise<ServiceGraph> {
  const now = rangeInput.now ?? new Date();
  const range = await resolveRollupRange(pool, resolveTimeRange(rangeInput, DEFAULT_WINDOW_SECONDS), now);
  const edgeTotals = await readEdgeTotals({ pool, range, view, namespace });

  const inbound = new Map<string, { id: string; endpoint: Endpoint; totals: RedTotals }>();
  const nodeFor = (endpoint: Endpoint) => {
    const id = toNodeId(endpoint);
    let node = inbound.get(id);
    if (!node) inbound.set(id, (node = { id, endpoint, totals: emptyTotals() }));
    return node;
  };
  const edges: GraphEdge[] = edgeTotals.map(({ source, destination, protocols, totals }) => {
    const target = nodeFor(destination);
    addTotals(target.totals, totals);
    return {
      source: nodeFor(source).id,
      target: target.id,
      ...summarize(totals, range.seconds),
      mtlsShare: totals.requests > 0 ? totals.mtlsRequests / totals.requests : 0,
      protocols,
    };
  });
  const nodes: GraphNode[] = [...inbound.values()].map(({ id, endpoint, totals }) => ({ id, ...endpoint, ...summarize(totals, range.seconds) }));

  return {
    nodes: nodes.sort((a, b) => compare(a.id, b.id)),
    edges: edges.sort((a, b) => compare(a.source, b.source) || compare(a.target, b.target)),
  };
}
