// The demo shop's shape in one place: which services exist, in which versions and languages, and who calls whom.
// Names and versions are fixed because the seed's Istio policies (policies/seed-policies.yaml) refer to them.

export type ServiceName = "frontend" | "catalog-service" | "order-service" | "payment-service" | "inventory-service";
export type AppRuntime = "node" | "python";

export type ServiceSpec = {
  name: ServiceName;
  versions: readonly string[];
  runtime: AppRuntime;
  /** Services this one calls; the app reaches each through the URL in `upstreamUrlEnv(name)`. */
  upstreams: readonly ServiceName[];
};

/** Leaves first: the start order, and the order instances are numbered in for ports. */
export const demoServices: readonly ServiceSpec[] = [
  { name: "payment-service", versions: ["v1"], runtime: "node", upstreams: [] },
  { name: "inventory-service", versions: ["v1"], runtime: "node", upstreams: [] },
  { name: "catalog-service", versions: ["v1"], runtime: "python", upstreams: [] },
  { name: "order-service", versions: ["v1", "v2"], runtime: "node", upstreams: ["payment-service", "inventory-service"] },
  { name: "frontend", versions: ["v1"], runtime: "node", upstreams: ["catalog-service", "order-service"] },
];

/** The gateway is a sidecar in gateway mode, not an app: it receives the shop's traffic and routes it here. */
export const gatewayService = "gateway";
export const gatewayRoute: ServiceName = "frontend";

/** `catalog-service` → `CATALOG_URL`: the env var an app reads to find that upstream. */
export function upstreamUrlEnv(name: ServiceName): string {
  return `${name.replace(/-service$/, "").toUpperCase().replace(/-/g, "_")}_URL`;
}

export function workloadName(service: string, version: string, replica = 0): string {
  return `${service}-${version}-${replica}`;
}
