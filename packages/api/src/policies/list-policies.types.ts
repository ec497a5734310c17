// The wire shape of policies.list: the current policies and the mesh revision they make up.
import { z } from "zod";
import type { PolicySet } from "@trellis/db";
import { storedPolicySchema } from "./policy.types.ts";

export const listPoliciesOutput = z.object({ revision: z.number().int(), policies: z.array(storedPolicySchema) }) satisfies z.ZodType<PolicySet>;
