// A snapshot compiled for the request path: virtual hosts by upstream, routes with their matchers and cumulative
// weights, destinations resolved to cluster objects. Built once per snapshot and cached by the snapshot object,
// so a push costs one compile and a request costs a WeakMap and a Map lookup.
import type { Endpoint, RouteAction, Snapshot, TrafficPolicy } from "@trellis/mesh-config";
import type { ForwardTarget } from "../proxy/forward.ts";
import { compileMatch, type CompiledMatch } from "./match.ts";
import { compileRetryPolicy, type RetryPolicy } from "./retry-policy.ts";

/** An endpoint with its address parsed and its description for local replies built once, not per request. */
export type CompiledEndpoint = Endpoint & { target: ForwardTarget; description: string };

export type CompiledCluster = {
  /** `<service>` or `<service>|<subset>`. */
  name: string;
  service: string;
  subset: string | null;
  endpoints: readonly CompiledEndpoint[];
  trafficPolicy: TrafficPolicy;
};

export type CompiledRoute = {
  /** The Istio route name, when the VirtualService gave one. */
  name: string | undefined;
  /** How local replies refer to the route: its name, or `<upstream> route #<index>`. */
  label: string;
  matches: readonly CompiledMatch[];
  /** Destinations with a weight above zero, and the running sum of their weights (same order). */
  clusters: readonly CompiledCluster[];
  cumulativeWeights: readonly number[];
  totalWeight: number;
  /** Undefined when the route has no timeout. */
  timeoutMs: number | undefined;
  fault: RouteAction["fault"];
  /** The route's retries, or Istio's default policy when it gives none. */
  retry: RetryPolicy;
  /** The cluster mirrored to and the share of requests, when the route mirrors (the cluster is in the snapshot). */
  mirror: { cluster: CompiledCluster; percentage: number } | undefined;
  /** The route as pushed, for the policies later layers read (retries, mirror). */
  action: RouteAction;
};

export type CompiledVirtualHost = { upstream: string; routes: readonly CompiledRoute[] };

export type RoutingTable = {
  virtualHosts: ReadonlyMap<string, CompiledVirtualHost>;
  clusters: ReadonlyMap<string, CompiledCluster>;
};

export type CompileResult = { ok: true; table: RoutingTable } | { ok: false; errors: string[] };

const compiled = new WeakMap<Snapshot, RoutingTable>();

/**
 * Compiles (or returns the cached compile of) a snapshot. Errors are what this sidecar cannot serve even though the
 * schema allowed it — a regex JavaScript rejects, a destination naming no cluster, a route whose weights are all
 * zero — so the config store can NACK the push instead of failing requests later.
 */
export function compileRoutingTable(snapshot: Snapshot): CompileResult {
  const cached = compiled.get(snapshot);
  if (cached) return { ok: true, table: cached };
  const errors: string[] = [];
  const clusters = new Map<string, CompiledCluster>();
  for (const [name, cluster] of Object.entries(snapshot.clusters)) {
    const endpoints = cluster.endpoints.map(compileEndpoint);
    clusters.set(name, { name, service: cluster.service, subset: cluster.subset, endpoints, trafficPolicy: cluster.trafficPolicy });
  }
  const virtualHosts = new Map<string, CompiledVirtualHost>();
  snapshot.virtualHosts.forEach((host, hostIndex) => {
    const where = `virtualHosts[${hostIndex}]`;
    if (virtualHosts.has(host.upstream)) {
      errors.push(`${where}: upstream "${host.upstream}" has more than one virtual host`);
      return;
    }
    const routes = host.routes.map((route, routeIndex) => compileRoute(route, { upstream: host.upstream, where: `${where}.routes[${routeIndex}]`, routeIndex, clusters, errors }));
    virtualHosts.set(host.upstream, { upstream: host.upstream, routes });
  });
  if (errors.length > 0) return { ok: false, errors };
  const table: RoutingTable = { virtualHosts, clusters };
  compiled.set(snapshot, table);
  return { ok: true, table };
}

/** The routing table of a snapshot the config store accepted (so it compiles); null if it somehow does not. */
export function routingTableFor(snapshot: Snapshot): RoutingTable | null {
  const cached = compiled.get(snapshot);
  if (cached) return cached;
  const result = compileRoutingTable(snapshot);
  return result.ok ? result.table : null;
}

type RouteContext = { upstream: string; where: string; routeIndex: number; clusters: ReadonlyMap<string, CompiledCluster>; errors: string[] };

function compileRoute(route: RouteAction, { upstream, where, routeIndex, clusters, errors }: RouteContext): CompiledRoute {
  const matches = route.match.map((match, i) => compileMatch(match, `${where}.match[${i}]`, errors));
  const targets: CompiledCluster[] = [];
  const cumulativeWeights: number[] = [];
  let totalWeight = 0;
  route.destinations.forEach((destination, i) => {
    const cluster = clusters.get(destination.cluster);
    if (!cluster) {
      errors.push(`${where}.destinations[${i}]: cluster "${destination.cluster}" is not in the snapshot's clusters`);
      return;
    }
    if (destination.weight === 0) return;
    totalWeight += destination.weight;
    targets.push(cluster);
    cumulativeWeights.push(totalWeight);
  });
  if (totalWeight === 0 && route.destinations.every((d) => clusters.has(d.cluster))) {
    errors.push(`${where}.destinations: every weight is 0, so the route can send traffic nowhere`);
  }
  return {
    name: route.name,
    label: route.name ?? `${upstream} route #${routeIndex}`,
    matches,
    clusters: targets,
    cumulativeWeights,
    totalWeight,
    // Envoy and Istio read a zero timeout as "no timeout", not "fail at once".
    timeoutMs: route.timeoutMs === 0 ? undefined : route.timeoutMs,
    fault: route.fault,
    retry: compileRetryPolicy(route.retries),
    mirror: compileMirror(route, where, clusters, errors),
    action: route,
  };
}

function compileMirror(route: RouteAction, where: string, clusters: ReadonlyMap<string, CompiledCluster>, errors: string[]): CompiledRoute["mirror"] {
  if (route.mirror === undefined || route.mirror.percentage === 0) return undefined;
  const cluster = clusters.get(route.mirror.cluster);
  if (cluster === undefined) {
    errors.push(`${where}.mirror: cluster "${route.mirror.cluster}" is not in the snapshot's clusters`);
    return undefined;
  }
  return { cluster, percentage: route.mirror.percentage };
}

function compileEndpoint(endpoint: Endpoint): CompiledEndpoint {
  return { ...endpoint, target: parseAddress(endpoint.address), description: `endpoint ${endpoint.workloadId} at ${endpoint.address}` };
}

/** host:port (the schema guarantees the shape) → its parts. */
export function parseAddress(address: string): ForwardTarget {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
