// The per-sidecar config snapshot: what one sidecar needs to route its outbound traffic. Built by the control
// plane from the registry, checked for consistency before it gets a version (go-control-plane's Consistent()).
import { z } from "zod";

export const endpointSchema = z.object({
  /** host:port of the destination sidecar's inbound listener. */
  address: z.string().regex(/^[^\s:]+:\d{1,5}$/, "endpoint address must be host:port, e.g. 127.0.0.1:15001"),
  workloadId: z.string().min(1),
  version: z.string(),
  labels: z.record(z.string(), z.string()),
});

export const clusterSchema = z.object({ endpoints: z.array(endpointSchema) });

export const routeSchema = z.object({
  /** The logical service the app calls (one outbound listener per upstream). */
  upstream: z.string().min(1),
  /** The cluster that serves it; static default routing for now (each upstream → its own cluster). */
  cluster: z.string().min(1),
});

export const snapshotSchema = z.object({
  service: z.string().min(1),
  clusters: z.record(z.string(), clusterSchema),
  routes: z.array(routeSchema),
});

export type Endpoint = z.infer<typeof endpointSchema>;
export type Cluster = z.infer<typeof clusterSchema>;
export type Route = z.infer<typeof routeSchema>;
export type Snapshot = z.infer<typeof snapshotSchema>;

export type WorkloadMode = "sidecar" | "gateway";

/** What the snapshot builder needs to know about one registered workload. */
export type RegisteredWorkload = {
  id: string;
  service: string;
  namespace: string;
  version: string;
  mode: WorkloadMode;
  labels: Record<string, string>;
  address: string;
  upstreams: string[];
};

export type BuildSnapshotOptions = {
  /** The sidecar the snapshot is for. */
  node: RegisteredWorkload;
  /** Every connected workload in the mesh (the node itself may be among them). */
  workloads: readonly RegisteredWorkload[];
};

/**
 * One cluster per upstream the node calls, holding the connected sidecars of that service in the node's namespace.
 * Gateways are never endpoints: they have no inbound mesh listener. Output is sorted so that equal registries give
 * byte-identical snapshots (the push path compares hashes).
 */
export function buildSnapshot({ node, workloads }: BuildSnapshotOptions): Snapshot {
  const upstreams = [...new Set(node.upstreams)].sort();
  const clusters: Record<string, Cluster> = {};
  const routes: Route[] = [];
  for (const upstream of upstreams) {
    const endpoints = workloads
      .filter((w) => w.mode === "sidecar" && w.service === upstream && w.namespace === node.namespace)
      .map((w) => ({ address: w.address, workloadId: w.id, version: w.version, labels: sortRecord(w.labels) }))
      .sort((a, b) => compareStrings(a.workloadId, b.workloadId));
    clusters[upstream] = { endpoints };
    routes.push({ upstream, cluster: upstream });
  }
  return { service: node.service, clusters, routes };
}

export type SnapshotCheck = { ok: true } | { ok: false; errors: string[] };

/** A snapshot is consistent when every route points at a cluster it contains and no upstream has two routes. */
export function checkSnapshot(snapshot: Snapshot): SnapshotCheck {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const route of snapshot.routes) {
    if (seen.has(route.upstream)) errors.push(`upstream "${route.upstream}" has more than one route`);
    seen.add(route.upstream);
    if (!Object.hasOwn(snapshot.clusters, route.cluster)) {
      errors.push(`route for upstream "${route.upstream}" points at cluster "${route.cluster}", which the snapshot does not contain`);
    }
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}

/** JSON with object keys sorted at every level, so that equal values always serialize (and hash) the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (isPlainObject(v) ? sortRecord(v) : v));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sortRecord<T>(record: Record<string, T>): Record<string, T> {
  const sorted: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key] as T;
  return sorted;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
