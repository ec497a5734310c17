// policies.history: one policy's versions, newest first, each with author, time, action and diff.
import { findPolicyHistory } from "@trellis/db";
import { AppError } from "@trellis/runtime";
import { publicProcedure } from "../trpc.ts";
import { getPolicyHistoryInput, getPolicyHistoryOutput } from "./get-policy-history.types.ts";

export const getPolicyHistoryRoute = publicProcedure
  .input(getPolicyHistoryInput)
  .output(getPolicyHistoryOutput)
  .query(async ({ ctx, input }) => {
    const history = await findPolicyHistory({ prisma: ctx.db.prisma, ...input });
    if (!history) throw new AppError("NOT_FOUND", `no ${input.kind} named ${input.name} in namespace ${input.namespace}`);
    return history;
  });
