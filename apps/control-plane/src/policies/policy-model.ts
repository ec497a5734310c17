// The policy store's view of the pure policy model (@trellis/mesh-config): stored rows back to domain policies,
// the merge-and-validate step of an apply with errors numbered by the caller's own documents, and which sidecars'
// snapshots a change of the policy set would change.
import { isDeepStrictEqual } from "node:util";
import type { PolicyChange, PolicyRef, StoredPolicy } from "@trellis/db";
import {
  buildSnapshots,
  canonicalJson,
  formatPolicyError,
  mergePolicies,
  POLICY_KINDS,
  validateApply,
  type Policy,
  type PolicyKind,
  type RegisteredWorkload,
  type Snapshot,
} from "@trellis/mesh-config";

/** A stored policy as the domain type. Rows were validated by the model when they were written. */
export function toPolicy(stored: StoredPolicy): Policy {
  const { labels, annotations } = stored.metadata;
  return {
    kind: stored.kind,
    apiVersion: stored.apiVersion,
    name: stored.name,
    namespace: stored.namespace,
    ...(labels === undefined ? {} : { labels }),
    ...(annotations === undefined ? {} : { annotations }),
    spec: stored.spec,
  } as Policy; // spec is whatever parsePolicies produced for this kind, round-tripped through jsonb
}

/** The row content of one new version of `policy`. */
export function toChange(policy: Policy, sourceYaml: string, diff: string, action: PolicyChange["action"]): PolicyChange {
  const metadata = { ...(policy.labels ? { labels: policy.labels } : {}), ...(policy.annotations ? { annotations: policy.annotations } : {}) };
  return { kind: policy.kind, namespace: policy.namespace, name: policy.name, apiVersion: policy.apiVersion, metadata, spec: policy.spec, sourceYaml, diff, action };
}

/** Equal policies serialise equally; a document equal to what is stored is a no-op. */
export function samePolicy(a: Policy, b: Policy): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * The set after applying `applied` over `existing`, or every error the apply would cause, formatted: an error in an
 * applied policy names its document in the caller's input, one in a stored policy the apply breaks says "stored".
 */
export function mergeAndValidate(existing: readonly Policy[], applied: readonly Policy[]): { ok: true; policies: Policy[] } | { ok: false; errors: string[] } {
  const errors = validateApply(existing, applied);
  if (errors.length > 0) return { ok: false, errors: errors.map(formatPolicyError) };
  return { ok: true, policies: mergePolicies(existing, applied) };
}

/** `Kind/namespace/name` for anything naming a policy (policyKey wants a known kind). */
export function refKey({ kind, namespace, name }: PolicyRef): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * The nodes whose snapshot differs between the two policy sets (what an apply would push to); `workloads` are every
 * endpoint in the mesh. Only for a dry run: a real apply learns this from its push round.
 */
export function findAffectedWorkloads({
  nodes,
  workloads,
  before,
  after,
}: {
  nodes: readonly RegisteredWorkload[];
  workloads: readonly RegisteredWorkload[];
  before: readonly Policy[];
  after: readonly Policy[];
}): RegisteredWorkload[] {
  const old = buildSnapshots({ workloads, nodes, policies: before });
  const next = buildSnapshots({ workloads, nodes, policies: after });
  // Nodes with equal inputs share snapshot objects, so each distinct pair is compared once. Structural equality
  // ignores key order like canonicalJson does, and stops at the first difference.
  const compared = new Map<Snapshot | undefined, Map<Snapshot | undefined, boolean>>();
  const differs = (a: Snapshot | undefined, b: Snapshot | undefined) => {
    const row = compared.get(a) ?? new Map<Snapshot | undefined, boolean>();
    compared.set(a, row);
    let result = row.get(b);
    if (result === undefined) {
      result = !isDeepStrictEqual(a, b);
      row.set(b, result);
    }
    return result;
  };
  return nodes.filter((w) => differs(old.get(w.id), next.get(w.id)));
}

/** Istio kinds as users type them: any case, or the short names kubectl knows (vs, dr, pa, ap). */
export function normalizeKind(value: string): PolicyKind | null {
  const lower = value.toLowerCase();
  const short: Record<string, PolicyKind> = { vs: "VirtualService", dr: "DestinationRule", pa: "PeerAuthentication", ap: "AuthorizationPolicy" };
  return POLICY_KINDS.find((kind) => kind.toLowerCase() === lower || `${kind.toLowerCase()}s` === lower) ?? short[lower] ?? null;
}
