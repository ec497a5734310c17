// Rules that span documents or that a schema cannot express: route weights, subsets that must exist, one owner per
// host, one mesh-wide or namespace-wide PeerAuthentication, AuthorizationPolicy paths and methods.
// Not an error: perTryTimeout longer than timeout. Istio accepts it and retries of fast failures still happen; the
// overall timeout simply caps each try.
import type { PolicyError } from "./errors.ts";
import { resolveHost, sameService, type ServiceRef } from "./hosts.ts";
import {
  policyKey,
  ROOT_NAMESPACE,
  type AuthorizationPolicy,
  type DestinationRule,
  type Destination,
  type PeerAuthentication,
  type Policy,
  type VirtualService,
} from "./types.ts";

type Found = { path: string; message: string };
type Indexed<P extends Policy> = { policy: P; document: number };

/** Errors of the whole set; `document` is the 1-based position in `policies`. */
export function validatePolicySet(policies: readonly Policy[]): PolicyError[] {
  const indexed = policies.map((policy, i) => ({ policy, document: i + 1 }));
  const rules = indexed.filter((p): p is Indexed<DestinationRule> => p.policy.kind === "DestinationRule");
  const errors: PolicyError[] = [];
  const report = ({ policy, document }: Indexed<Policy>, found: Found[]) => {
    for (const { path, message } of found) errors.push({ document, kind: policy.kind, namespace: policy.namespace, name: policy.name, path, message });
  };
  const seen = new Set<string>();
  for (const entry of indexed) {
    const key = policyKey(entry.policy);
    if (!seen.has(key)) seen.add(key);
    else report(entry, [{ path: "metadata.name", message: `${entry.policy.kind} ${entry.policy.namespace}/${entry.policy.name} appears more than once; keep one of them` }]);
  }
  for (const entry of indexed) report(entry, checkPolicy(entry, indexed, rules));
  return errors.sort((a, b) => a.document - b.document);
}

function checkPolicy(entry: Indexed<Policy>, all: readonly Indexed<Policy>[], rules: readonly Indexed<DestinationRule>[]): Found[] {
  const { policy } = entry;
  switch (policy.kind) {
    case "VirtualService":
      return [...checkRoutes(policy, rules.map((r) => r.policy)), ...checkHostOwners(entry as Indexed<VirtualService>, all)];
    case "DestinationRule":
      return [...checkSubsets(policy), ...checkRuleOwners(entry as Indexed<DestinationRule>, rules)];
    case "PeerAuthentication":
      return checkPeerAuthentication(entry as Indexed<PeerAuthentication>, all);
    case "AuthorizationPolicy":
      return checkAuthorization(policy);
  }
}

function checkRoutes(vs: VirtualService, rules: readonly DestinationRule[]): Found[] {
  const found: Found[] = [];
  vs.spec.http.forEach((route, i) => {
    const sum = route.route.reduce((total, d) => total + d.weight, 0);
    if (sum !== 100) found.push({ path: `spec.http[${i}].route`, message: `weights sum to ${sum}, expected 100` });
    route.route.forEach(({ destination }, j) => {
      const missing = findMissingSubset(destination, vs.namespace, rules);
      if (missing !== undefined) found.push({ path: `spec.http[${i}].route[${j}].destination`, message: missing });
    });
    const mirror = route.mirror && findMissingSubset(route.mirror.destination, vs.namespace, rules);
    if (mirror !== undefined) found.push({ path: `spec.http[${i}].mirror`, message: mirror });
  });
  return found;
}

function findMissingSubset(destination: Destination, namespace: string, rules: readonly DestinationRule[]): string | undefined {
  const { subset } = destination;
  if (subset === undefined) return undefined;
  const target = resolveHost(destination.host, namespace);
  const defined = rules.some((rule) => sameService(ruleTarget(rule), target) && rule.spec.subsets.some((s) => s.name === subset));
  return defined ? undefined : `subset "${subset}" is not defined by any DestinationRule for ${destination.host}`;
}

function ruleTarget(rule: DestinationRule): ServiceRef {
  return resolveHost(rule.spec.host, rule.namespace);
}

/** Istio merges VirtualServices only for gateways; for sidecars a second one for the same host is silently ignored. */
function checkHostOwners({ policy, document }: Indexed<VirtualService>, all: readonly Indexed<Policy>[]): Found[] {
  const found: Found[] = [];
  policy.spec.hosts.forEach((host, i) => {
    const target = resolveHost(host, policy.namespace);
    const earlier = all.find(
      (other): other is Indexed<VirtualService> =>
        other.document < document &&
        other.policy.kind === "VirtualService" &&
        other.policy.spec.hosts.some((h) => sameService(resolveHost(h, other.policy.namespace), target)),
    );
    if (earlier !== undefined) {
      found.push({ path: `spec.hosts[${i}]`, message: `VirtualService ${earlier.policy.namespace}/${earlier.policy.name} already routes ${host}; merge the two into one` });
    }
  });
  return found;
}

function checkSubsets(rule: DestinationRule): Found[] {
  const seen = new Set<string>();
  const found: Found[] = [];
  rule.spec.subsets.forEach((subset, i) => {
    if (seen.has(subset.name)) found.push({ path: `spec.subsets[${i}].name`, message: `subset "${subset.name}" is defined twice; subset names must be unique` });
    seen.add(subset.name);
  });
  return found;
}

function checkRuleOwners({ policy, document }: Indexed<DestinationRule>, rules: readonly Indexed<DestinationRule>[]): Found[] {
  const target = ruleTarget(policy);
  const earlier = rules.find((other) => other.document < document && sameService(ruleTarget(other.policy), target));
  if (earlier === undefined) return [];
  return [
    {
      path: "spec.host",
      message: `DestinationRule ${earlier.policy.namespace}/${earlier.policy.name} already configures ${policy.spec.host}; merge the two into one (subsets and trafficPolicy)`,
    },
  ];
}

function checkPeerAuthentication({ policy, document }: Indexed<PeerAuthentication>, all: readonly Indexed<Policy>[]): Found[] {
  if (policy.spec.selector !== undefined) {
    if (policy.namespace !== ROOT_NAMESPACE) return [];
    return [
      {
        path: "spec.selector",
        message: `a PeerAuthentication in the root namespace ${ROOT_NAMESPACE} is mesh-wide only without a selector; remove spec.selector, or move the policy to the namespace of the workloads it selects`,
      },
    ];
  }
  const earlier = all.find(
    (other) =>
      other.document < document &&
      other.policy.kind === "PeerAuthentication" &&
      other.policy.namespace === policy.namespace &&
      other.policy.spec.selector === undefined,
  );
  if (earlier === undefined) return [];
  const scope = policy.namespace === ROOT_NAMESPACE ? "mesh-wide" : `namespace-wide (${policy.namespace})`;
  return [{ path: "spec", message: `PeerAuthentication ${earlier.policy.namespace}/${earlier.policy.name} is already the ${scope} policy; keep one, or add a spec.selector to this one` }];
}

const HTTP_METHOD = /^[A-Z]+$/;

function checkAuthorization(policy: AuthorizationPolicy): Found[] {
  const found: Found[] = [];
  policy.spec.rules.forEach((rule, i) => {
    rule.to.forEach((operation, j) => {
      const base = `spec.rules[${i}].to[${j}].operation`;
      for (const field of ["paths", "notPaths"] as const) {
        operation[field]?.forEach((path, k) => {
          const problem = checkPathPattern(path);
          if (problem !== undefined) found.push({ path: `${base}.${field}[${k}]`, message: problem });
        });
      }
      for (const field of ["methods", "notMethods"] as const) {
        operation[field]?.forEach((method, k) => {
          if (!HTTP_METHOD.test(method) && method !== "*") {
            found.push({ path: `${base}.${field}[${k}]`, message: `${JSON.stringify(method)} is not an HTTP method; write it in upper case, e.g. GET` });
          }
        });
      }
    });
  });
  return found;
}

/** Istio path patterns: exact (`/a`), prefix (`/a/*`), suffix (`*.js`) or `*`. */
function checkPathPattern(path: string): string | undefined {
  if (path === "*") return undefined;
  const inner = path.slice(1, -1);
  if (inner.includes("*")) return `${JSON.stringify(path)}: "*" is only allowed at the start or the end of a path`;
  if (!path.startsWith("/") && !path.startsWith("*")) return `${JSON.stringify(path)} must start with "/" (or "*" for a suffix match), e.g. /api/*`;
  return undefined;
}
