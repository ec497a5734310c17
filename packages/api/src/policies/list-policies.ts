// policies.list: every current policy with its version, the revision that made it, author and time.
import { findPolicies } from "@trellis/db";
import { z } from "zod";
import { publicProcedure } from "../trpc.ts";
import { listPoliciesOutput } from "./list-policies.types.ts";

export const listPoliciesRoute = publicProcedure
  .input(z.void())
  .output(listPoliciesOutput)
  .query(({ ctx }) => findPolicies({ prisma: ctx.db.prisma }));
