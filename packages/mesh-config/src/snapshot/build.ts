// One sidecar's snapshot from the registry and the policies: only the upstreams it calls, the clusters their routes
// use, its own inbound security, and mTLS per cluster. Sorted throughout, so equal inputs hash equal (the push path
// compares hashes). Sidecars with the same inputs share one snapshot object, built once.
import type { Policy, WorkloadSelector } from "../policy/types.ts";
import type { Cluster, RegisteredWorkload, Snapshot, VirtualHost } from "../snapshot.ts";
import { buildCluster } from "./clusters.ts";
import { indexMesh, workloadLabels, type MeshIndex } from "./mesh-index.ts";
import { buildVirtualHost, listClusterRefs, type ClusterRef } from "./routes.ts";
import { compareStrings, resolveAuthorization, resolveMtlsMode, selects } from "./security.ts";

export type BuildSnapshotOptions = {
  /** The sidecar the snapshot is for. */
  node: RegisteredWorkload;
  /** Every connected workload in the mesh (the node itself may be among them). */
  workloads: readonly RegisteredWorkload[];
  /** The validated policy set; none means default routing and PERMISSIVE mTLS. */
  policies?: readonly Policy[];
};

export type BuildSnapshotsOptions = Omit<BuildSnapshotOptions, "node"> & {
  /** The sidecars to build snapshots for (those with a config stream); every workload when omitted. */
  nodes?: readonly RegisteredWorkload[];
};

export function buildSnapshot({ node, workloads, policies = [] }: BuildSnapshotOptions): Snapshot {
  return buildFromIndex(node, indexMesh(workloads, policies), createParts());
}

/**
 * Every node's snapshot by workload id, from one index: what a push sends and a dry-run compares. Nodes whose
 * snapshots cannot differ (same namespace, service, upstreams and inbound policy selectors) get the same object, and
 * clusters and virtual hosts are shared between snapshots too, so callers must not mutate them; a push serialises
 * and hashes each distinct object once.
 */
export function buildSnapshots({ workloads, nodes = workloads, policies = [] }: BuildSnapshotsOptions): Map<string, Snapshot> {
  const mesh = indexMesh(workloads, policies);
  const parts = createParts();
  const selectors = listInboundSelectors(policies);
  const byKey = new Map<string, Snapshot>();
  const snapshots = new Map<string, Snapshot>();
  for (const node of nodes) {
    const key = snapshotKey(node, selectors);
    let snapshot = byKey.get(key);
    if (snapshot === undefined) {
      snapshot = buildFromIndex(node, mesh, parts);
      byKey.set(key, snapshot);
    }
    snapshots.set(node.id, snapshot);
  }
  return snapshots;
}

/** Virtual hosts and clusters depend only on the node's namespace and the upstream, so one build serves every node. */
type Parts = {
  virtualHost: (namespace: string, service: string, mesh: MeshIndex) => VirtualHost;
  cluster: (ref: ClusterRef, namespace: string, mesh: MeshIndex) => { cluster: Cluster; mtls: boolean } | undefined;
};

function createParts(): Parts {
  const hosts = new Map<string, VirtualHost>();
  const clusters = new Map<string, { cluster: Cluster; mtls: boolean } | undefined>();
  return {
    virtualHost(namespace, service, mesh) {
      const key = `${namespace}/${service}`;
      let host = hosts.get(key);
      if (host === undefined) {
        host = buildVirtualHost({ service, namespace }, mesh.policies);
        hosts.set(key, host);
      }
      return host;
    },
    cluster(ref, namespace, mesh) {
      const key = `${namespace}/${ref.name}`;
      if (clusters.has(key)) return clusters.get(key);
      const cluster = buildCluster(ref, namespace, mesh);
      const built = cluster === undefined ? undefined : { cluster, mtls: originatesMtls(cluster, namespace, mesh) };
      clusters.set(key, built);
      return built;
    },
  };
}

/**
 * What a node's snapshot depends on besides the mesh: its namespace, service and upstreams, and which
 * PeerAuthentication and AuthorizationPolicy selectors pick it (its inbound policy). Instance labels nobody selects on
 * (pod-template-hash and the like) do not split otherwise identical sidecars.
 */
function snapshotKey(node: RegisteredWorkload, selectors: readonly WorkloadSelector[]): string {
  const labels = workloadLabels(node);
  const selectedBy = selectors.flatMap((selector, i) => (selects(selector, labels) ? [i] : []));
  const upstreams = [...new Set(node.upstreams)].sort(compareStrings);
  return JSON.stringify([node.namespace, node.service, upstreams, selectedBy]);
}

/** The workload selectors of the policies that decide a sidecar's inbound security. */
function listInboundSelectors(policies: readonly Policy[]): WorkloadSelector[] {
  return policies.flatMap((policy) => {
    if (policy.kind !== "PeerAuthentication" && policy.kind !== "AuthorizationPolicy") return [];
    return policy.spec.selector === undefined ? [] : [policy.spec.selector];
  });
}

function buildFromIndex(node: RegisteredWorkload, mesh: MeshIndex, parts: Parts): Snapshot {
  const { namespace } = node;
  const upstreams = [...new Set(node.upstreams)].sort(compareStrings);
  const virtualHosts = upstreams.map((service) => parts.virtualHost(namespace, service, mesh));
  const clusters: Record<string, Cluster> = {};
  const outboundMtls: Record<string, boolean> = {};
  for (const ref of listClusterRefs(virtualHosts)) {
    const built = parts.cluster(ref, namespace, mesh);
    if (built === undefined) continue;
    clusters[ref.name] = built.cluster;
    outboundMtls[ref.name] = built.mtls;
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
