// Outbound, logical layer: the service the app asked for → its virtual host → the first route whose match holds
// → one weighted destination cluster. Works on the compiled routing table, so it allocates nothing per request.
import type { IncomingHttpHeaders } from "node:http";
import { matchesAny } from "./match.ts";
import type { CompiledCluster, CompiledRoute, CompiledVirtualHost } from "./routing-table.ts";

/** The first route of the virtual host that takes this request (routes are tried in order), or null (→ 404 NR). */
export function findRoute(host: CompiledVirtualHost, path: string, method: string, headers: IncomingHttpHeaders): CompiledRoute | null {
  for (const route of host.routes) if (matchesAny(route.matches, path, method, headers)) return route;
  return null;
}

/**
 * One destination by weight: a uniform draw over the cumulative weights, so every request is independent and the
 * split converges on the weights without shared state. `random` returns [0, 1), like Math.random.
 */
export function pickCluster(route: CompiledRoute, random: () => number = Math.random): CompiledCluster | null {
  const { clusters, cumulativeWeights } = route;
  if (clusters.length === 1) return clusters[0] ?? null;
  const draw = random() * route.totalWeight;
  for (let i = 0; i < cumulativeWeights.length; i += 1) {
    if (draw < (cumulativeWeights[i] ?? 0)) return clusters[i] ?? null;
  }
  // Only reachable through floating-point rounding at the very top of the range.
  return clusters[clusters.length - 1] ?? null;
}

/** Why no route took the request, for the 404 NR body. */
export function describeNoRoute(upstream: string, host: CompiledVirtualHost | undefined, method: string, path: string): string {
  if (host === undefined) return `the config has no route for upstream "${upstream}"`;
  return `none of the ${host.routes.length} route(s) of upstream "${upstream}" matches ${method} ${path}`;
}
