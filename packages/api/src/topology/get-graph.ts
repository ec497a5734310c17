// topology.graph: the service graph over a range — by service, or by service version (the default, what the
// dashboard draws) — optionally only the edges into or out of one namespace.
import { findServiceGraph } from "@trellis/db";
import { publicProcedure } from "../trpc.ts";
import { getGraphInput, getGraphOutput } from "./get-graph.types.ts";

export const getGraphRoute = publicProcedure
  .input(getGraphInput)
  .output(getGraphOutput)
  .query(({ ctx, input }) => findServiceGraph({ pool: ctx.db.pool, ...input }));
