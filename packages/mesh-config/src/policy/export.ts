// Domain policies → Istio YAML: one document per policy, ordered by (kind, namespace, name), keys in a fixed order
// and durations in Istio syntax, so that exports diff cleanly and import → export → import is the identity.
import { stringify } from "yaml";
import { toIstioSpec } from "../istio/kinds.ts";
import { compact } from "../records.ts";
import type { Policy } from "./types.ts";

export function exportPolicies(policies: readonly Policy[]): string {
  return sortPolicies(policies).map(exportPolicy).join("---\n");
}

/** One policy as one Istio YAML document (no `---`). */
export function exportPolicy(policy: Policy): string {
  const document = {
    apiVersion: policy.apiVersion,
    kind: policy.kind,
    metadata: compact({ name: policy.name, namespace: policy.namespace, labels: policy.labels, annotations: policy.annotations }),
    spec: toIstioSpec(policy),
  };
  return stringify(document, { lineWidth: 0 });
}

/** The export order: kind, then namespace, then name. */
export function sortPolicies(policies: readonly Policy[]): Policy[] {
  return [...policies].sort((a, b) => compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
