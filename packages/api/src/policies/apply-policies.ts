// policies.applyYaml (tRPC reserves `apply`): Istio YAML to the control plane, which validates it against the stored set, cuts a revision and
// pushes it (or, with dryRun, reports the diffs and the sidecars it would reach).
import { publicProcedure } from "../trpc.ts";
import { postToControlPlane } from "./control-plane-client.ts";
import { applyPoliciesInput, applyPoliciesOutput } from "./apply-policies.types.ts";

export const applyPoliciesRoute = publicProcedure
  .input(applyPoliciesInput)
  .output(applyPoliciesOutput)
  .mutation(({ ctx, input }) => postToControlPlane(ctx, "/v1/policies/apply", input, applyPoliciesOutput));
