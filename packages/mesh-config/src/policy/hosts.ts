// Istio host names resolved to the mesh service they mean: a short name is in the policy's own namespace,
// `name.ns`, `name.ns.svc` and `name.ns.svc.cluster.local` name another one.

export type ServiceRef = { service: string; namespace: string };

export function resolveHost(host: string, policyNamespace: string): ServiceRef {
  const [service = host, namespace] = host.split(".");
  return { service, namespace: namespace ?? policyNamespace };
}

export function sameService(a: ServiceRef, b: ServiceRef): boolean {
  return a.service === b.service && a.namespace === b.namespace;
}

/** Envoy-style cluster name: `<service>` or `<service>|<subset>`. */
export function clusterName(service: string, subset: string | undefined): string {
  return subset === undefined ? service : `${service}|${subset}`;
}
