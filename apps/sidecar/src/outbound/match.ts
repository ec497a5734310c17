// Istio HTTPMatchRequest evaluation, compiled once per snapshot into plain predicates: a request costs string
// comparisons and at most one pre-built RegExp test per condition, never a parse or a compile.
import type { IncomingHttpHeaders } from "node:http";
import type { RouteMatch, StringMatch } from "@trellis/mesh-config";

export type StringMatcher = (value: string) => boolean;

/** One match entry: every condition given must hold; null / empty means "any". */
export type CompiledMatch = {
  uri: StringMatcher | null;
  method: StringMatcher | null;
  /** Header names are lower-cased here, as Node lower-cases incoming ones. */
  headers: ReadonlyArray<{ name: string; test: StringMatcher }>;
};

/**
 * Compiles one string match. Regexes follow Envoy's safe_regex semantics, which Istio uses: the whole value must
 * match (so `v[12]` does not match `xv1`). A regex JavaScript cannot compile is reported in `errors` at `where`.
 */
export function compileStringMatch(match: StringMatch, where: string, errors: string[]): StringMatcher {
  if ("exact" in match) {
    const expected = match.exact;
    return (value) => value === expected;
  }
  if ("prefix" in match) {
    const prefix = match.prefix;
    return (value) => value.startsWith(prefix);
  }
  const pattern = match.regex;
  try {
    // Compiling the bare pattern first rejects unbalanced groups, which could otherwise escape the anchoring group.
    new RegExp(pattern);
    const regex = new RegExp(`^(?:${pattern})$`);
    return (value) => regex.test(value);
  } catch (error) {
    errors.push(`${where}.regex: ${JSON.stringify(pattern)} is not a regular expression this sidecar can use (${(error as Error).message})`);
    return () => false;
  }
}

export function compileMatch(match: RouteMatch, where: string, errors: string[]): CompiledMatch {
  const headers = Object.entries(match.headers ?? {}).map(([name, value]) => ({
    name: name.toLowerCase(),
    test: compileStringMatch(value, `${where}.headers.${name}`, errors),
  }));
  return {
    uri: match.uri ? compileStringMatch(match.uri, `${where}.uri`, errors) : null,
    method: match.method ? compileStringMatch(match.method, `${where}.method`, errors) : null,
    headers,
  };
}

/** Whether one compiled match entry holds for a request; `path` is the request path without its query string. */
export function matchesRequest(match: CompiledMatch, path: string, method: string, headers: IncomingHttpHeaders): boolean {
  if (match.uri !== null && !match.uri(path)) return false;
  if (match.method !== null && !match.method(method)) return false;
  for (const { name, test } of match.headers) {
    const value = headers[name];
    if (value === undefined) return false;
    if (typeof value === "string") {
      if (!test(value)) return false;
    } else if (!value.some(test)) return false;
  }
  return true;
}

/** Istio's rule: a route with no match entries takes every request; otherwise any one entry must hold. */
export function matchesAny(matches: readonly CompiledMatch[], path: string, method: string, headers: IncomingHttpHeaders): boolean {
  if (matches.length === 0) return true;
  for (const match of matches) if (matchesRequest(match, path, method, headers)) return true;
  return false;
}
