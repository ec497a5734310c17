// The concrete layer of a snapshot: a cluster's endpoints (connected sidecars of the service whose labels include
// the subset's) and its traffic policy (the DestinationRule's, with the subset's fields replacing the rule's).
import { compact } from "../records.ts";
import { resolveHost, sameService, type ServiceRef } from "../policy/hosts.ts";
import type { DestinationRule, Policy, TrafficPolicy as PolicyTrafficPolicy } from "../policy/types.ts";
import type { Cluster, Endpoint, TrafficPolicy } from "../snapshot.ts";
import { workloadLabels, type MeshIndex } from "./mesh-index.ts";
import type { ClusterRef } from "./routes.ts";
import { compareStrings, selects } from "./security.ts";

/** Envoy's outlier-detection defaults, which Istio keeps, for the fields a DestinationRule leaves out. */
const OUTLIER_DEFAULTS = { intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 };

/** Undefined when the ref names a subset no DestinationRule defines: checkSnapshot then reports the dangling route. */
export function buildCluster(ref: ClusterRef, namespace: string, mesh: MeshIndex): Cluster | undefined {
  const target: ServiceRef = { service: ref.service, namespace };
  const rule = findDestinationRule(target, mesh.policies);
  const subset = ref.subset === undefined ? undefined : rule?.spec.subsets.find((s) => s.name === ref.subset);
  if (ref.subset !== undefined && subset === undefined) return undefined;
  const selector = { matchLabels: subset?.labels ?? {} };
  const endpoints: Endpoint[] = mesh
    .sidecarsOf(namespace, ref.service)
    .filter((w) => selects(selector, workloadLabels(w)))
    .map(mesh.endpointOf);
  const policy = { ...rule?.spec.trafficPolicy, ...subset?.trafficPolicy };
  return { service: ref.service, subset: ref.subset ?? null, endpoints, trafficPolicy: toSnapshotTrafficPolicy(policy) };
}

function findDestinationRule(target: ServiceRef, policies: readonly Policy[]): DestinationRule | undefined {
  return policies
    .filter((p): p is DestinationRule => p.kind === "DestinationRule")
    .filter((rule) => sameService(resolveHost(rule.spec.host, rule.namespace), target))
    .sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`))[0];
}

function toSnapshotTrafficPolicy(policy: PolicyTrafficPolicy): TrafficPolicy {
  const simple = policy.loadBalancer?.simple ?? "ROUND_ROBIN";
  const result: TrafficPolicy = { loadBalancer: simple === "LEAST_CONN" ? "LEAST_REQUEST" : simple };
  const { tcp, http } = policy.connectionPool ?? {};
  const pool = compact({
    maxConnections: tcp?.maxConnections,
    connectTimeoutMs: tcp?.connectTimeoutMs,
    maxPendingRequests: http?.http1MaxPendingRequests,
    maxRequests: http?.http2MaxRequests,
    // Istio: 0 means unlimited, which the snapshot says by leaving it out.
    maxRequestsPerConnection: http?.maxRequestsPerConnection === 0 ? undefined : http?.maxRequestsPerConnection,
    maxRetries: http?.maxRetries,
    idleTimeoutMs: http?.idleTimeoutMs,
  });
  if (Object.keys(pool).length > 0) result.connectionPool = pool;
  const outlier = policy.outlierDetection;
  if (outlier !== undefined) {
    result.outlierDetection = compact({
      consecutive5xxErrors: outlier.consecutive5xxErrors,
      consecutiveGatewayErrors: outlier.consecutiveGatewayErrors,
      intervalMs: outlier.intervalMs ?? OUTLIER_DEFAULTS.intervalMs,
      baseEjectionTimeMs: outlier.baseEjectionTimeMs ?? OUTLIER_DEFAULTS.baseEjectionTimeMs,
      maxEjectionPercent: outlier.maxEjectionPercent ?? OUTLIER_DEFAULTS.maxEjectionPercent,
    });
  }
  return result;
}
