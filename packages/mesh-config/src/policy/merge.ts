// An apply as a set operation: the stored policies with the applied ones replacing those of the same key, then
// validated as a whole, so an apply that breaks a stored policy (a removed subset it routes to) is refused too.
import type { PolicyError } from "./errors.ts";
import { policyKey, type Policy } from "./types.ts";
import { validatePolicySet } from "./validate.ts";

/** Stored policies not replaced (in their order), then the applied ones (in theirs). */
export function mergePolicies(existing: readonly Policy[], applied: readonly Policy[]): Policy[] {
  const replaced = new Set(applied.map(policyKey));
  return [...existing.filter((p) => !replaced.has(policyKey(p))), ...applied];
}

/**
 * Errors that applying `applied` over `existing` would cause. `document` is the 1-based position in `applied`
 * (the input's document number when `applied` came from parsePolicies), or 0 for a stored policy the apply breaks.
 * Errors a stored policy already had before this apply are not blamed on it.
 */
export function validateApply(existing: readonly Policy[], applied: readonly Policy[]): PolicyError[] {
  const merged = mergePolicies(existing, applied);
  const offset = merged.length - applied.length;
  const before = new Set(validatePolicySet(existing).map(identify));
  return validatePolicySet(merged)
    .map((error) => ({ ...error, document: error.document > offset ? error.document - offset : 0 }))
    .filter((error) => error.document > 0 || !before.has(identify(error)));
}

function identify(error: PolicyError): string {
  return JSON.stringify([error.kind, error.namespace, error.name, error.path, error.message]);
}
