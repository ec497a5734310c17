// policies.rollback: make an earlier version of a policy current again, through the control plane (validated
// against the whole set and pushed like an apply).
import { publicProcedure } from "../trpc.ts";
import { postToControlPlane } from "./control-plane-client.ts";
import { rollbackPolicyInput, rollbackPolicyOutput } from "./rollback-policy.types.ts";

export const rollbackPolicyRoute = publicProcedure
  .input(rollbackPolicyInput)
  .output(rollbackPolicyOutput)
  .mutation(({ ctx, input }) => {
    const { kind, namespace, name, ...body } = input;
    const path = `/v1/policies/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/rollback`;
    return postToControlPlane(ctx, path, body, rollbackPolicyOutput);
  });
