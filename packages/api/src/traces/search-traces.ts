// traces.search: the newest traces matching the filters.
import { findTraces } from "@trellis/db";
import { publicProcedure } from "../trpc.ts";
import { searchTracesInput, searchTracesOutput } from "./search-traces.types.ts";

export const searchTracesRoute = publicProcedure
  .input(searchTracesInput)
  .output(searchTracesOutput)
  .query(({ ctx, input }) => findTraces({ pool: ctx.db.pool, ...input }));
