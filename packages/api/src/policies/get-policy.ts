// policies.get: one policy's current version (spec and the Istio YAML it was applied as).
import { findPolicy } from "@trellis/db";
import { AppError } from "@trellis/runtime";
import { publicProcedure } from "../trpc.ts";
import { getPolicyInput, getPolicyOutput } from "./get-policy.types.ts";

export const getPolicyRoute = publicProcedure
  .input(getPolicyInput)
  .output(getPolicyOutput)
  .query(async ({ ctx, input }) => {
    const policy = await findPolicy({ prisma: ctx.db.prisma, ...input });
    if (!policy) throw new AppError("NOT_FOUND", `no ${input.kind} named ${input.name} in namespace ${input.namespace}`);
    return policy;
  });
