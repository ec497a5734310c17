// Outbound, concrete layer: one backend cluster and the choice of endpoint within it (round robin for now;
// outlier detection and circuit breaking belong here later).
import type { Endpoint, Snapshot } from "@trellis/mesh-config";

export type ConcreteResult = { ok: true; endpoint: Endpoint } | { ok: false; flag: "UH"; reason: string };

export type Balancer = { pick: (snapshot: Snapshot, cluster: string) => ConcreteResult };

export function createRoundRobinBalancer(): Balancer {
  // One cursor per cluster; it survives config swaps, and the modulo keeps it valid when endpoints come and go.
  const cursors = new Map<string, number>();
  return {
    pick(snapshot, cluster) {
      const endpoints = Object.hasOwn(snapshot.clusters, cluster) ? (snapshot.clusters[cluster]?.endpoints ?? []) : [];
      if (endpoints.length === 0) return { ok: false, flag: "UH", reason: `cluster "${cluster}" has no endpoints (no sidecar of that service is connected)` };
      const cursor = cursors.get(cluster) ?? 0;
      cursors.set(cluster, (cursor + 1) % endpoints.length);
      const endpoint = endpoints[cursor % endpoints.length];
      if (!endpoint) return { ok: false, flag: "UH", reason: `cluster "${cluster}" has no endpoints` };
      return { ok: true, endpoint };
    },
  };
}
