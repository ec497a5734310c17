// Which PeerAuthentication mode and AuthorizationPolicies apply to a workload, resolved the way Istio does:
// workload selector in its namespace > namespace-wide > mesh-wide (root namespace) > PERMISSIVE; UNSET inherits.
import { ROOT_NAMESPACE, type AuthorizationPolicy, type MtlsMode, type PeerAuthentication, type Policy, type WorkloadSelector } from "../policy/types.ts";
import type { InboundPolicy } from "../snapshot.ts";

export type WorkloadIdentity = { namespace: string; labels: Record<string, string> };

export function resolveMtlsMode(workload: WorkloadIdentity, policies: readonly Policy[]): MtlsMode {
  const peers = byName(policies.filter((p): p is PeerAuthentication => p.kind === "PeerAuthentication"));
  const selecting = peers.filter((p) => p.namespace === workload.namespace && p.spec.selector !== undefined && selects(p.spec.selector, workload.labels));
  const namespaceWide = peers.filter((p) => p.namespace === workload.namespace && p.spec.selector === undefined);
  const meshWide = peers.filter((p) => p.namespace === ROOT_NAMESPACE && p.spec.selector === undefined);
  for (const scope of [selecting, namespaceWide, meshWide]) {
    const mode = scope.find((p) => p.spec.mtlsMode !== undefined)?.spec.mtlsMode;
    if (mode !== undefined) return mode;
  }
  return "PERMISSIVE";
}

/** AuthorizationPolicies selecting the workload, named `namespace/name`, sorted by that name. */
export function resolveAuthorization(workload: WorkloadIdentity, policies: readonly Policy[]): InboundPolicy["authorization"] {
  return byName(policies.filter((p): p is AuthorizationPolicy => p.kind === "AuthorizationPolicy"))
    .filter((p) => appliesTo(p, workload))
    .map((p) => ({ name: `${p.namespace}/${p.name}`, action: p.spec.action, rules: p.spec.rules }));
}

function appliesTo(policy: AuthorizationPolicy, workload: WorkloadIdentity): boolean {
  const { selector } = policy.spec;
  if (policy.namespace === ROOT_NAMESPACE && selector === undefined) return true;
  if (policy.namespace !== workload.namespace) return false;
  return selector === undefined || selects(selector, workload.labels);
}

export function selects(selector: WorkloadSelector, labels: Record<string, string>): boolean {
  return Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);
}

/** Istio breaks ties between equally specific policies by age; Trellis by namespace/name, which is stable. */
function byName<P extends Policy>(policies: readonly P[]): P[] {
  return [...policies].sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
