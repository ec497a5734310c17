// The wire shape of policies.get.
import { policyRefInput, storedPolicySchema } from "./policy.types.ts";

export const getPolicyInput = policyRefInput;
export const getPolicyOutput = storedPolicySchema;
