// logs.search: access-log records newest first, a page at a time.
import { findLogs } from "@trellis/db";
import { publicProcedure } from "../trpc.ts";
import { searchLogsInput, searchLogsOutput } from "./search-logs.types.ts";

export const searchLogsRoute = publicProcedure
  .input(searchLogsInput)
  .output(searchLogsOutput)
  .query(({ ctx, input }) => findLogs({ pool: ctx.db.pool, ...input }));
