// The logical layer of a snapshot: an upstream's VirtualService turned into ordered routes over Envoy-style
// cluster names, or one default route to the whole service when no VirtualService routes it.
import { clusterName, resolveHost, sameService, type ServiceRef } from "../policy/hosts.ts";
import type { Destination, HttpRoute, Policy, VirtualService } from "../policy/types.ts";
import type { RetryOn, RouteAction, VirtualHost } from "../snapshot.ts";
import { compareStrings } from "./security.ts";

/** Istio's retryOn when `retries` leaves it out (pilot retry.DefaultPolicy()), with its retriable status 503. */
export const DEFAULT_RETRY_ON: RetryOn[] = ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"];
export const DEFAULT_RETRIABLE_STATUS_CODES: number[] = [503];

/** A cluster a route refers to: the service (in the node's namespace) and the subset, if any. */
export type ClusterRef = { name: string; service: string; subset: string | undefined };

export function buildVirtualHost(upstream: ServiceRef, policies: readonly Policy[]): VirtualHost {
  const vs = findVirtualService(upstream, policies);
  if (vs === undefined) return { upstream: upstream.service, routes: [{ match: [], destinations: [{ cluster: upstream.service, weight: 100 }] }] };
  return { upstream: upstream.service, routes: vs.spec.http.map((route) => toRouteAction(route, vs.namespace)) };
}

/** Every cluster the routes refer to, destinations and mirrors alike. */
export function listClusterRefs(virtualHosts: readonly VirtualHost[]): ClusterRef[] {
  const names = new Set<string>();
  for (const host of virtualHosts) {
    for (const route of host.routes) {
      for (const d of route.destinations) names.add(d.cluster);
      if (route.mirror !== undefined) names.add(route.mirror.cluster);
    }
  }
  return [...names].sort(compareStrings).map((name) => {
    const [service = name, subset] = name.split("|");
    return { name, service, subset };
  });
}

/** The first (by namespace/name) VirtualService whose hosts name the upstream; validation allows only one. */
function findVirtualService(upstream: ServiceRef, policies: readonly Policy[]): VirtualService | undefined {
  return policies
    .filter((p): p is VirtualService => p.kind === "VirtualService")
    .filter((vs) => vs.spec.hosts.some((host) => sameService(resolveHost(host, vs.namespace), upstream)))
    .sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`))[0];
}

function toRouteAction(route: HttpRoute, namespace: string): RouteAction {
  const cluster = (d: Destination) => clusterName(resolveHost(d.host, namespace).service, d.subset);
  const action: RouteAction = {
    match: route.match.map((m) => ({ ...m })),
    destinations: route.route.map(({ destination, weight }) => ({ cluster: cluster(destination), weight })),
  };
  if (route.name !== undefined) action.name = route.name;
  if (route.timeoutMs !== undefined) action.timeoutMs = route.timeoutMs;
  if (route.retries !== undefined) {
    const { attempts, perTryTimeoutMs, retryOn, retriableStatusCodes } = route.retries;
    if (retryOn === undefined) action.retries = { attempts, retryOn: [...DEFAULT_RETRY_ON], retriableStatusCodes: [...DEFAULT_RETRIABLE_STATUS_CODES] };
    else {
      // Istio: status codes given in retryOn imply retriable-status-codes, even when it is not written.
      const implied = retriableStatusCodes !== undefined && !retryOn.includes("retriable-status-codes");
      action.retries = { attempts, retryOn: implied ? [...retryOn, "retriable-status-codes"] : [...retryOn] };
      if (retriableStatusCodes !== undefined) action.retries.retriableStatusCodes = [...retriableStatusCodes];
    }
    if (perTryTimeoutMs !== undefined) action.retries.perTryTimeoutMs = perTryTimeoutMs;
  }
  if (route.fault !== undefined) action.fault = { ...route.fault };
  if (route.mirror !== undefined) action.mirror = { cluster: cluster(route.mirror.destination), percentage: route.mirror.percentage };
  return action;
}
