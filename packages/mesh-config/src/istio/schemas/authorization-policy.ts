// AuthorizationPolicy (security.istio.io): ALLOW/DENY by source principal or namespace, path and method. Istio's
// `from[].source` / `to[].operation` wrappers are unwrapped in the domain and put back on export.
import { z } from "zod";
import type { AuthorizationOperation, AuthorizationPolicySpec, AuthorizationRule, AuthorizationSource } from "../../policy/types.ts";
import { compact } from "../../records.ts";
import { workloadSelector } from "./common.ts";

const values = z.array(z.string().min(1)).min(1);

const source = z
  .strictObject({ principals: values.optional(), notPrincipals: values.optional(), namespaces: values.optional(), notNamespaces: values.optional() })
  .refine((s) => Object.values(s).some((v) => v !== undefined), "an empty source matches nothing; set principals, notPrincipals, namespaces or notNamespaces")
  .transform((s): AuthorizationSource => compact(s));

const operation = z
  .strictObject({ paths: values.optional(), notPaths: values.optional(), methods: values.optional(), notMethods: values.optional() })
  .refine((o) => Object.values(o).some((v) => v !== undefined), "an empty operation matches nothing; set paths, notPaths, methods or notMethods")
  .transform((o): AuthorizationOperation => compact(o));

const rule = z
  .strictObject({ from: z.array(z.strictObject({ source })).optional(), to: z.array(z.strictObject({ operation })).optional() })
  .transform((r): AuthorizationRule => ({ from: (r.from ?? []).map((f) => f.source), to: (r.to ?? []).map((t) => t.operation) }));

export const authorizationPolicySpec = z
  .strictObject({
    selector: workloadSelector.optional(),
    action: z.enum(["ALLOW", "DENY"]).optional(),
    rules: z.array(rule).optional(),
  })
  .transform((s): AuthorizationPolicySpec => compact({ selector: s.selector, action: s.action ?? "ALLOW", rules: s.rules ?? [] }));

export function toIstioAuthorizationPolicySpec(spec: AuthorizationPolicySpec): Record<string, unknown> {
  return compact({
    selector: spec.selector,
    action: spec.action,
    rules: spec.rules.map((r) =>
      compact({
        from: r.from.length === 0 ? undefined : r.from.map((s) => ({ source: s })),
        to: r.to.length === 0 ? undefined : r.to.map((o) => ({ operation: o })),
      }),
    ),
  });
}
