// Outbound, concrete layer: one backend cluster and the choice of endpoint within it, by the cluster's
// DestinationRule load balancer. Circuit breaking and outlier ejection belong here too (issue 4): they narrow the
// endpoints a pick may choose from and are fed by the same pick/release bracket that counts requests in flight.
import type { Endpoint } from "@trellis/mesh-config";
import type { CompiledCluster, CompiledEndpoint } from "./routing-table.ts";

export type LoadBalancer = {
  /**
   * An endpoint of the cluster, or null when it has none (→ 503 UH). Every successful pick must be released.
   * `accept` narrows the choice (outlier ejection, endpoints a retry already tried): when the balancer's choice is
   * not accepted, the next accepted endpoint after it is taken; null when none is.
   */
  pick: (cluster: CompiledCluster, accept?: (endpoint: CompiledEndpoint) => boolean) => CompiledEndpoint | null;
  /** Ends the request `pick` started on this endpoint. */
  release: (endpoint: Endpoint) => void;
  /** Requests in flight to an endpoint (by workload id), across every cluster it belongs to. */
  inFlight: (workloadId: string) => number;
};

/**
 * State lives here, not in the snapshot, so it survives config swaps: round-robin cursors per cluster name (the
 * modulo keeps them valid as endpoints come and go) and in-flight counts per endpoint.
 */
export function createLoadBalancer({ random = Math.random }: { random?: () => number } = {}): LoadBalancer {
  const cursors = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const load = (endpoint: Endpoint) => inFlight.get(endpoint.workloadId) ?? 0;

  const choose = (cluster: CompiledCluster): CompiledEndpoint | undefined => {
    const { endpoints } = cluster;
    const count = endpoints.length;
    if (count === 1) return endpoints[0];
    switch (cluster.trafficPolicy.loadBalancer) {
      case "RANDOM":
        return endpoints[Math.floor(random() * count)];
      case "LEAST_REQUEST": {
        // Power of two choices: two distinct endpoints at random, the less loaded wins. Nearly as good as a full
        // scan at spreading load, O(1), and it avoids every sidecar herding onto the same "least loaded" endpoint.
        const first = Math.floor(random() * count);
        let second = Math.floor(random() * (count - 1));
        if (second >= first) second += 1;
        const a = endpoints[first];
        const b = endpoints[second];
        if (a === undefined || b === undefined) return a ?? b;
        return load(b) < load(a) ? b : a;
      }
      case "ROUND_ROBIN": {
        const cursor = (cursors.get(cluster.name) ?? 0) % count;
        cursors.set(cluster.name, (cursor + 1) % count);
        return endpoints[cursor];
      }
    }
  };

  return {
    pick(cluster, accept) {
      if (cluster.endpoints.length === 0) return null;
      let endpoint = choose(cluster);
      if (endpoint !== undefined && accept !== undefined && !accept(endpoint)) endpoint = nextAccepted(cluster.endpoints, endpoint, accept);
      if (endpoint === undefined) return null;
      inFlight.set(endpoint.workloadId, load(endpoint) + 1);
      return endpoint;
    },
    release(endpoint) {
      const left = load(endpoint) - 1;
      if (left > 0) inFlight.set(endpoint.workloadId, left);
      else inFlight.delete(endpoint.workloadId);
    },
    inFlight: (workloadId) => inFlight.get(workloadId) ?? 0,
  };
}

/** The first accepted endpoint after `rejected` (wrapping around), so the balancer's order is kept. */
function nextAccepted(endpoints: readonly CompiledEndpoint[], rejected: CompiledEndpoint, accept: (endpoint: CompiledEndpoint) => boolean): CompiledEndpoint | undefined {
  const start = endpoints.indexOf(rejected);
  for (let i = 1; i <= endpoints.length; i += 1) {
    const candidate = endpoints[(start + i) % endpoints.length];
    if (candidate !== undefined && accept(candidate)) return candidate;
  }
  return undefined;
}

/** The 503 UH reason for a cluster with no endpoints. */
export function describeNoEndpoints(cluster: CompiledCluster): string {
  const which = cluster.subset === null ? `no sidecar of ${cluster.service} is connected` : `no connected sidecar of ${cluster.service} has the labels of subset "${cluster.subset}"`;
  return `cluster "${cluster.name}" has no endpoints (${which})`;
}
