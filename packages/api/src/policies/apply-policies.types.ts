// The wire shape of policies.applyYaml.
import { z } from "zod";
import { applyResultSchema, changeOptions } from "./policy.types.ts";

export const applyPoliciesInput = z.object({
  yaml: z.string().min(1, "paste the Istio YAML to apply").max(4 * 1024 * 1024, "is over 4 MiB; split it into several applies"),
  ...changeOptions,
});

export const applyPoliciesOutput = applyResultSchema;
