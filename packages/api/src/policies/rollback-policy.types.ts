// The wire shape of policies.rollback.
import { z } from "zod";
import { applyResultSchema, changeOptions, policyRefInput } from "./policy.types.ts";

export const rollbackPolicyInput = policyRefInput.extend({
  to: z.number().int().min(1, "must be a version number (1 or more)"),
  ...changeOptions,
});

export const rollbackPolicyOutput = applyResultSchema;
