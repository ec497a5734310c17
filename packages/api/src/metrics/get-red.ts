// metrics.red: a RED time series for a service, a service version or a caller → callee edge.
import { findRedSeries } from "@trellis/db";
import { publicProcedure } from "../trpc.ts";
import { getRedInput, getRedOutput } from "./get-red.types.ts";

export const getRedRoute = publicProcedure
  .input(getRedInput)
  .output(getRedOutput)
  .query(({ ctx, input }) => findRedSeries({ pool: ctx.db.pool, ...input }));
