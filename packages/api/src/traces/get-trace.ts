// traces.get: every span of one trace in tree order; NOT_FOUND naming the id when none is stored.
import { findTrace } from "@trellis/db";
import { publicProcedure } from "../trpc.ts";
import { getTraceInput, getTraceOutput } from "./get-trace.types.ts";

export const getTraceRoute = publicProcedure
  .input(getTraceInput)
  .output(getTraceOutput)
  .query(({ ctx, input }) => findTrace({ pool: ctx.db.pool, traceId: input.traceId }));
