// One sidecar's snapshot from the registry and the policies: only the upstreams it calls, the clusters their routes
// use, its own inbound security, and mTLS per cluster. Sorted throughout, so equal inputs hash equal (the push path
// compares hashes).
import type { Policy } from "../policy/types.ts";
import type { Cluster, RegisteredWorkload, Snapshot } from "../snapshot.ts";
import { buildCluster } from "./clusters.ts";
import { indexMesh, workloadLabels, type MeshIndex } from "./mesh-index.ts";
import { buildVirtualHost, listClusterRefs } from "./routes.ts";
import { compareStrings, resolveAuthorization, resolveMtlsMode } from "./security.ts";

export type BuildSnapshotOptions = {
  /** The sidecar the snapshot is for. */
  node: RegisteredWorkload;
  /** Every connected workload in the mesh (the node itself may be among them). */
  workloads: readonly RegisteredWorkload[];
  /** The validated policy set; none means default routing and PERMISSIVE mTLS. */
  policies?: readonly Policy[];
};

export type BuildSnapshotsOptions = Omit<BuildSnapshotOptions, "node">;

export function buildSnapshot({ node, workloads, policies = [] }: BuildSnapshotOptions): Snapshot {
  return buildFromIndex(node, indexMesh(workloads, policies));
}

/** Every workload's snapshot by workload id, from one index: what a push sends and a dry-run compares. */
export function buildSnapshots({ workloads, policies = [] }: BuildSnapshotsOptions): Map<string, Snapshot> {
  const mesh = indexMesh(workloads, policies);
  return new Map(workloads.map((node) => [node.id, buildFromIndex(node, mesh)]));
}

function buildFromIndex(node: RegisteredWorkload, mesh: MeshIndex): Snapshot {
  const { namespace } = node;
  const upstreams = [...new Set(node.upstreams)].sort(compareStrings);
  const virtualHosts = upstreams.map((service) => buildVirtualHost({ service, namespace }, mesh.policies));
  const clusters: Record<string, Cluster> = {};
  const outboundMtls: Record<string, boolean> = {};
  for (const ref of listClusterRefs(virtualHosts)) {
    const cluster = buildCluster(ref, namespace, mesh);
    if (cluster === undefined) continue;
    clusters[ref.name] = cluster;
    outboundMtls[ref.name] = originatesMtls(cluster, namespace, mesh);
  }
  const identity = { namespace, labels: workloadLabels(node) };
  return {
    service: node.service,
    namespace,
    clusters,
    virtualHosts,
    inbound: { mtlsMode: mesh.mtlsModeOf(node), authorization: resolveAuthorization(identity, mesh.policies) },
    outboundMtls,
  };
}

/**
 * Plaintext only when every endpoint (or, with none yet, the destination namespace) has mTLS DISABLEd: a STRICT
 * endpoint refuses plaintext, and a PERMISSIVE one takes either.
 */
function originatesMtls(cluster: Cluster, namespace: string, mesh: MeshIndex): boolean {
  const ids = new Set(cluster.endpoints.map((e) => e.workloadId));
  const endpoints = mesh.sidecarsOf(namespace, cluster.service).filter((w) => ids.has(w.id));
  if (endpoints.length === 0) return resolveMtlsMode({ namespace, labels: {} }, mesh.policies) !== "DISABLE";
  return !endpoints.every((w) => mesh.mtlsModeOf(w) === "DISABLE");
}
