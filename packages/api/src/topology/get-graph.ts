// topology.graph: the live service graph over the last windowSeconds.
import { findServiceGraph } from "@trellis/db";
import { windowInput } from "../common/window-input.ts";
import { publicProcedure } from "../trpc.ts";
import { getGraphOutput } from "./get-graph.types.ts";

export const getGraphRoute = publicProcedure
  .input(windowInput)
  .output(getGraphOutput)
  .query(({ ctx, input }) => findServiceGraph({ pool: ctx.db.pool, windowSeconds: input.windowSeconds }));
