// Builders for v2 snapshots in sidecar tests: the smallest valid pieces, so each test states only what it is about.
import type { Cluster, Endpoint, RouteAction, Snapshot, TrafficPolicy } from "@trellis/mesh-config";

export function testEndpoint(workloadId: string, address = "127.0.0.1:15001", labels: Record<string, string> = {}): Endpoint {
  return { address, workloadId, version: labels.version ?? "v1", labels };
}

export function testCluster(service: string, subset: string | null, endpoints: Endpoint[], loadBalancer: TrafficPolicy["loadBalancer"] = "ROUND_ROBIN"): Cluster {
  return { service, subset, endpoints, trafficPolicy: { loadBalancer } };
}

/** A route; by default it matches everything and sends all traffic to `cluster`. */
export function testRoute(cluster: string, overrides: Partial<RouteAction> = {}): RouteAction {
  return { match: [], destinations: [{ cluster, weight: 100 }], ...overrides };
}

/** A snapshot for `service` whose clusters are keyed by their Envoy-style names. */
export function testSnapshot({
  service = "frontend",
  clusters,
  virtualHosts,
}: {
  service?: string;
  clusters: Cluster[];
  virtualHosts: Snapshot["virtualHosts"];
}): Snapshot {
  const byName: Record<string, Cluster> = {};
  for (const cluster of clusters) byName[cluster.subset === null ? cluster.service : `${cluster.service}|${cluster.subset}`] = cluster;
  const outboundMtls: Record<string, boolean> = {};
  for (const name of Object.keys(byName)) outboundMtls[name] = false;
  return { service, namespace: "default", clusters: byName, virtualHosts, inbound: { mtlsMode: "PERMISSIVE", authorization: [] }, outboundMtls };
}
