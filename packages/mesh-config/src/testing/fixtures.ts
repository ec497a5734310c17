// Test-only fixtures: the demo's seed policies (read from disk, which is why this lives apart from the pure code)
// and a parse that fails the test loudly instead of returning errors.
import { readFileSync } from "node:fs";
import { formatPolicyError } from "../policy/errors.ts";
import { parsePolicies } from "../istio/parse.ts";
import type { Policy } from "../policy/types.ts";

export const SEED_YAML = readFileSync(new URL("../../../../apps/demo/policies/seed-policies.yaml", import.meta.url), "utf8");

export function parseOrThrow(yamlText: string): Policy[] {
  const result = parsePolicies(yamlText);
  if (!result.ok) throw new Error(`expected valid policies, got:\n${result.errors.map(formatPolicyError).join("\n")}`);
  return result.policies;
}

/** A VirtualService document with the given `http` block (YAML, indented under `http:`). */
export function virtualService(name: string, http: string, extra = ""): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ${name}
${extra}spec:
  hosts:
  - ${name}
  http:
${http}`;
}
