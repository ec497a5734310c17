// Zod pieces shared by the four Istio kinds: strict objects with Istio's field names that transform into the
// domain's units (milliseconds, plain percentages, unwrapped matches), plus the helpers to write them back.
import { z } from "zod";
import type { StringMatch, WorkloadSelector } from "../../policy/types.ts";
import { sortRecord } from "../../records.ts";
import { parseDuration } from "../duration.ts";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const resourceName = z
  .string()
  .max(253)
  .regex(DNS_SUBDOMAIN, "must be lowercase letters, digits, '-' and '.' (a Kubernetes name), e.g. order-service");

export const namespaceName = z.string().max(63).regex(DNS_LABEL, "must be lowercase letters, digits and '-' (a Kubernetes namespace), e.g. default");

/** A service host: a short name, `name.namespace`, or the FQDN `name.namespace.svc.cluster.local`. */
export const hostName = z.string().regex(DNS_SUBDOMAIN, "must be a service host like order-service or order-service.default.svc.cluster.local");

export const stringMap = z.record(z.string(), z.string());

/** A duration in Istio syntax → integer milliseconds (required unless wrapped in .optional()). */
export const duration = z.unknown().transform((value, ctx): number => {
  if (value === undefined) {
    ctx.addIssue({ code: "custom", message: "required; set a duration like 2s or 250ms" });
    return z.NEVER;
  }
  const parsed = parseDuration(value);
  if (parsed.ok) return parsed.ms;
  ctx.addIssue({ code: "custom", message: parsed.message });
  return z.NEVER;
});

/** Istio's `Percent` message (`{ value: 12.5 }`) → 12.5. */
export const percentage = z.strictObject({ value: z.number().min(0).max(100) }).transform(({ value }) => value);

export function toIstioPercentage(value: number): { value: number } {
  return { value };
}

/** Istio's StringMatch: exactly one of exact, prefix, regex; a regex must compile. */
export const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() })
  .transform((match, ctx): StringMatch => {
    const given = Object.entries(match).filter(([, v]) => v !== undefined);
    const [first] = given;
    if (given.length !== 1 || first === undefined) {
      ctx.addIssue({ code: "custom", message: `set exactly one of exact, prefix or regex (found ${given.length === 0 ? "none" : given.map(([k]) => k).join(" and ")})` });
      return z.NEVER;
    }
    const [kind, value] = first as ["exact" | "prefix" | "regex", string];
    if (kind === "regex") {
      const problem = checkRegex(value);
      if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a valid regular expression: ${problem}`, path: ["regex"] });
        return z.NEVER;
      }
    }
    return { [kind]: value } as StringMatch;
  });

export const workloadSelector = z
  .strictObject({ matchLabels: stringMap })
  .refine((selector) => Object.keys(selector.matchLabels).length > 0, {
    message: "an empty matchLabels selects every workload; remove spec.selector to mean the whole namespace",
    path: ["matchLabels"],
  })
  .transform((selector): WorkloadSelector => ({ matchLabels: sortRecord(selector.matchLabels) }));

export const metadata = z.strictObject({
  name: resourceName,
  namespace: namespaceName.optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});

function checkRegex(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
