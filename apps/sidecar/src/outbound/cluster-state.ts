// Per-cluster resilience state that outlives any one snapshot: requests and retries in flight (circuit breakers
// and the retry budget), the connection pool, outlier detection and overflow counters. Created on first use,
// re-configured when a push changes the cluster's traffic policy, dropped when a push removes the cluster.
import type { Snapshot, TrafficPolicy } from "@trellis/mesh-config";
import type { ClusterEvent } from "../telemetry/records.ts";
import { createOutlierDetector, type OutlierDetector } from "./outlier.ts";
import { createClusterPool, type ClusterPool, type PoolLimits, type UpstreamTls } from "./pools.ts";
import { DEFAULT_RETRY_BUDGET, type RetryBudgetConfig } from "./retry-budget.ts";
import type { CompiledCluster } from "./routing-table.ts";

/** Envoy's default max_pending_requests, used when a connection limit is set without a pending limit. */
export const DEFAULT_MAX_PENDING = 1024;
/** How often ejections are checked for their end when no pick does it first. */
const SWEEP_MS = 1_000;

export type ClusterCounters = {
  overflowRequests: number;
  overflowPending: number;
  overflowConnections: number;
  retries: number;
  retrySuccess: number;
  retryOverflow: number;
  retryLimitExceeded: number;
  perTryTimeouts: number;
  ejections: number;
};

export type ClusterState = {
  name: string;
  /** The compiled cluster this state was last configured from (a new snapshot object → re-configure). */
  compiled: CompiledCluster;
  policy: TrafficPolicy;
  pool: ClusterPool;
  outlier: OutlierDetector;
  /** Requests in flight to the cluster, each counted once however many attempts it makes. */
  active: number;
  /** Retries in flight or backing off (the retry budget's numerator). */
  retriesActive: number;
  counters: ClusterCounters;
  /** Counts the event and hands it to telemetry. */
  event: (event: ClusterEvent) => void;
};

export type Resilience = {
  /** The state of a cluster, configured from the compiled cluster in force for this request. */
  clusterFor: (cluster: CompiledCluster) => ClusterState;
  clusters: () => ReadonlyMap<string, ClusterState>;
  budget: RetryBudgetConfig;
  stop: () => void;
};

export type ResilienceDeps = {
  upstreamTls: UpstreamTls;
  currentSnapshot: () => Snapshot | null;
  recordClusterEvent: (cluster: string, event: ClusterEvent) => void;
  /** The retry budget's share of active requests, in percent (Envoy budget_percent, default 20). */
  retryBudgetPercent?: number;
};

export function createResilience({ upstreamTls, currentSnapshot, recordClusterEvent, retryBudgetPercent }: ResilienceDeps): Resilience {
  const states = new Map<string, ClusterState>();
  const budget: RetryBudgetConfig = { ...DEFAULT_RETRY_BUDGET, budgetPercent: retryBudgetPercent ?? DEFAULT_RETRY_BUDGET.budgetPercent };

  const create = (cluster: CompiledCluster): ClusterState => {
    const { name } = cluster;
    const counters: ClusterCounters = { overflowRequests: 0, overflowPending: 0, overflowConnections: 0, retries: 0, retrySuccess: 0, retryOverflow: 0, retryLimitExceeded: 0, perTryTimeouts: 0, ejections: 0 };
    const event = (what: ClusterEvent) => {
      countEvent(counters, what);
      recordClusterEvent(name, what);
    };
    return {
      name,
      compiled: cluster,
      policy: cluster.trafficPolicy,
      pool: createClusterPool(name, upstreamTls, poolLimits(cluster.trafficPolicy)),
      outlier: createOutlierDetector(() => event("outlier_returned")),
      active: 0,
      retriesActive: 0,
      counters,
      event,
    };
  };

  // One timer for every cluster: ends run-out ejections at each cluster's interval and forgets clusters that the
  // config in force no longer has (their idle connections close; requests still on them finish first).
  const lastSweep = new Map<string, number>();
  const timer = setInterval(() => {
    const now = Date.now();
    const snapshot = currentSnapshot();
    for (const [name, state] of states) {
      if (snapshot !== null && snapshot.clusters[name] === undefined && state.active === 0) {
        state.pool.close();
        states.delete(name);
        lastSweep.delete(name);
        continue;
      }
      const interval = state.policy.outlierDetection?.intervalMs ?? SWEEP_MS;
      if (now - (lastSweep.get(name) ?? 0) < interval) continue;
      lastSweep.set(name, now);
      state.outlier.sweep(now);
    }
  }, SWEEP_MS);
  timer.unref();

  return {
    clusterFor(cluster) {
      let state = states.get(cluster.name);
      if (state === undefined) {
        state = create(cluster);
        states.set(cluster.name, state);
        return state;
      }
      if (state.compiled !== cluster) reconfigure(state, cluster);
      return state;
    },
    clusters: () => states,
    budget,
    stop() {
      clearInterval(timer);
      for (const state of states.values()) state.pool.close();
      states.clear();
    },
  };
}

/** A push changed the snapshot: new limits for the pool, and outlier state only for endpoints still there. */
function reconfigure(state: ClusterState, cluster: CompiledCluster): void {
  state.compiled = cluster;
  state.policy = cluster.trafficPolicy;
  state.pool.configure(poolLimits(cluster.trafficPolicy));
  state.outlier.retain(new Set(cluster.endpoints.map((e) => e.workloadId)));
}

function poolLimits(policy: TrafficPolicy): PoolLimits {
  const pool = policy.connectionPool;
  return { maxConnections: pool?.maxConnections, maxRequestsPerConnection: pool?.maxRequestsPerConnection, idleTimeoutMs: pool?.idleTimeoutMs };
}

function countEvent(counters: ClusterCounters, event: ClusterEvent): void {
  switch (event) {
    case "overflow_requests":
      counters.overflowRequests += 1;
      return;
    case "overflow_pending":
      counters.overflowPending += 1;
      return;
    case "overflow_connections":
      counters.overflowConnections += 1;
      return;
    case "retry":
      counters.retries += 1;
      return;
    case "retry_success":
      counters.retrySuccess += 1;
      return;
    case "retry_overflow":
      counters.retryOverflow += 1;
      return;
    case "retry_limit_exceeded":
      counters.retryLimitExceeded += 1;
      return;
    case "per_try_timeout":
      counters.perTryTimeouts += 1;
      return;
    case "outlier_ejected":
      counters.ejections += 1;
      return;
    case "outlier_returned":
    case "mirror":
      return;
  }
}
