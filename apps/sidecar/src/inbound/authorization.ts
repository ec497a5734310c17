// AuthorizationPolicy on inbound, with Istio's semantics (CUSTOM aside): any matching DENY denies; otherwise, when
// ALLOW policies exist, one must match; otherwise the request is allowed. Policies are compiled once per pushed
// inbound policy (WeakMap), so a request only runs prepared matchers.
import type { InboundPolicy } from "@trellis/mesh-config";

/** What a request is judged on. `principal` is Istio's form (`cluster.local/ns/x/sa/y`); null without mTLS. */
export type AuthzRequest = { principal: string | null; namespace: string | null; path: string; method: string };

/** null when allowed; otherwise why not, for logs (the caller only ever sees "RBAC: access denied"). */
export type AuthzDecision = string | null;

type Matcher = (value: string) => boolean;
type Field = { values: Matcher | null; not: Matcher | null };
type Source = { principals: Field; namespaces: Field };
type Operation = { paths: Field; methods: Field };
type Rule = { from: Source[]; to: Operation[] };
type CompiledPolicy = { name: string; rules: Rule[] };
type CompiledAuthorization = { deny: CompiledPolicy[]; allow: CompiledPolicy[]; noAllowMatched: string };

const ALLOW_ALL: CompiledAuthorization = { deny: [], allow: [], noAllowMatched: "" };
const compiled = new WeakMap<InboundPolicy["authorization"], CompiledAuthorization>();

export function authorize(policies: InboundPolicy["authorization"], request: AuthzRequest): AuthzDecision {
  if (policies.length === 0) return null;
  const authz = compileAuthorization(policies);
  for (const policy of authz.deny) {
    if (matchesPolicy(policy, request)) return `denied by DENY policy ${policy.name}`;
  }
  if (authz.allow.length === 0) return null;
  for (const policy of authz.allow) {
    if (matchesPolicy(policy, request)) return null;
  }
  return authz.noAllowMatched;
}

export function compileAuthorization(policies: InboundPolicy["authorization"]): CompiledAuthorization {
  if (policies.length === 0) return ALLOW_ALL;
  let result = compiled.get(policies);
  if (result === undefined) {
    const deny: CompiledPolicy[] = [];
    const allow: CompiledPolicy[] = [];
    for (const policy of policies) {
      const rules = policy.rules.map((rule) => ({
        from: rule.from.map((s) => ({ principals: field(s.principals, s.notPrincipals), namespaces: field(s.namespaces, s.notNamespaces) })),
        to: rule.to.map((o) => ({ paths: field(o.paths, o.notPaths), methods: field(o.methods, o.notMethods) })),
      }));
      (policy.action === "DENY" ? deny : allow).push({ name: policy.name, rules });
    }
    const noAllowMatched = `no ALLOW policy matched (${allow.map((p) => p.name).join(", ")})`;
    result = { deny, allow, noAllowMatched };
    compiled.set(policies, result);
  }
  return result;
}

/** A policy with no rules matches nothing: an ALLOW without rules allows nothing, a DENY without rules denies nothing. */
function matchesPolicy(policy: CompiledPolicy, request: AuthzRequest): boolean {
  for (const rule of policy.rules) {
    if (matchesAny(rule.from, request, matchesSource) && matchesAny(rule.to, request, matchesOperation)) return true;
  }
  return false;
}

/** An empty `from` or `to` puts no condition; otherwise any one entry must match. */
function matchesAny<T>(entries: readonly T[], request: AuthzRequest, match: (entry: T, request: AuthzRequest) => boolean): boolean {
  if (entries.length === 0) return true;
  for (const entry of entries) if (match(entry, request)) return true;
  return false;
}

/**
 * Without mTLS the principal and namespace are empty, as in Istio: `principals`/`namespaces` never match them (not
 * even "*"), while `notPrincipals: ["*"]` does — Istio's idiom for "deny anything that is not mutual TLS".
 */
function matchesSource(source: Source, request: AuthzRequest): boolean {
  return matchesField(source.principals, request.principal ?? "") && matchesField(source.namespaces, request.namespace ?? "");
}

function matchesOperation(operation: Operation, request: AuthzRequest): boolean {
  return matchesField(operation.paths, request.path) && matchesField(operation.methods, request.method);
}

function matchesField(field: Field, value: string): boolean {
  if (field.values !== null && !field.values(value)) return false;
  if (field.not !== null && field.not(value)) return false;
  return true;
}

function field(values: string[] | undefined, not: string[] | undefined): Field {
  return { values: anyOf(values), not: anyOf(not) };
}

/** Istio string match: exact, `prefix*`, `*suffix`, or `*` alone for "present" (any non-empty value). */
function anyOf(patterns: string[] | undefined): Matcher | null {
  if (patterns === undefined || patterns.length === 0) return null;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  let present = false;
  for (const pattern of patterns) {
    if (pattern === "*") present = true;
    else if (pattern.endsWith("*")) prefixes.push(pattern.slice(0, -1));
    else if (pattern.startsWith("*")) suffixes.push(pattern.slice(1));
    else exact.add(pattern);
  }
  return (value) => {
    if (value === "") return false;
    if (present || exact.has(value)) return true;
    for (const prefix of prefixes) if (value.startsWith(prefix)) return true;
    for (const suffix of suffixes) if (value.endsWith(suffix)) return true;
    return false;
  };
}
