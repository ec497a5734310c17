// GET /clusters on the admin port (Envoy's /clusters, as JSON): per cluster in force, its endpoints with their
// health (ejected until when, times ejected, consecutive errors), requests and retries in flight, connections,
// breaker limits and overflow counts, and the retry budget's current allowance.
import type { Snapshot } from "@trellis/mesh-config";
import type { ClusterCounters, Resilience } from "./cluster-state.ts";
import { retryBudgetLimit } from "./retry-budget.ts";

export type EndpointView = {
  workloadId: string;
  address: string;
  health: "healthy" | "ejected";
  ejectedUntil: string | null;
  timesEjected: number;
  consecutive5xx: number;
  consecutiveGatewayErrors: number;
};

export type ClusterView = {
  name: string;
  service: string;
  subset: string | null;
  endpoints: EndpointView[];
  activeRequests: number;
  pendingRequests: number;
  connections: number;
  idleConnections: number;
  mtls: boolean;
  limits: NonNullable<Snapshot["clusters"][string]["trafficPolicy"]["connectionPool"]> | null;
  outlierDetection: NonNullable<Snapshot["clusters"][string]["trafficPolicy"]["outlierDetection"]> | null;
  retryBudget: { budgetPercent: number; minRetryConcurrency: number; retriesActive: number; allowedNow: number };
  counters: ClusterCounters;
};

export function describeClusters(resilience: Resilience, snapshot: Snapshot | null): { clusters: ClusterView[] } {
  if (snapshot === null) return { clusters: [] };
  const now = Date.now();
  const states = resilience.clusters();
  const clusters = Object.entries(snapshot.clusters).map(([name, cluster]): ClusterView => {
    const state = states.get(name);
    const endpoints = cluster.endpoints.map((endpoint): EndpointView => {
      const ejected = state?.outlier.isEjected(endpoint.workloadId, now) ?? false;
      const health = state?.outlier.health(endpoint.workloadId);
      return {
        workloadId: endpoint.workloadId,
        address: endpoint.address,
        health: ejected ? "ejected" : "healthy",
        ejectedUntil: ejected && health ? new Date(health.ejectedUntil).toISOString() : null,
        timesEjected: health?.timesEjected ?? 0,
        consecutive5xx: health?.consecutive5xx ?? 0,
        consecutiveGatewayErrors: health?.consecutiveGatewayErrors ?? 0,
      };
    });
    const active = state?.active ?? 0;
    return {
      name,
      service: cluster.service,
      subset: cluster.subset,
      endpoints,
      activeRequests: active,
      pendingRequests: state?.pool.pending() ?? 0,
      connections: state?.pool.connections() ?? 0,
      idleConnections: state?.pool.idleConnections() ?? 0,
      mtls: state?.pool.secure() ?? false,
      limits: cluster.trafficPolicy.connectionPool ?? null,
      outlierDetection: cluster.trafficPolicy.outlierDetection ?? null,
      retryBudget: { ...resilience.budget, retriesActive: state?.retriesActive ?? 0, allowedNow: retryBudgetLimit(active, resilience.budget) },
      counters: state?.counters ?? { overflowRequests: 0, overflowPending: 0, overflowConnections: 0, retries: 0, retrySuccess: 0, retryOverflow: 0, retryLimitExceeded: 0, perTryTimeouts: 0, ejections: 0 },
    };
  });
  return { clusters };
}
