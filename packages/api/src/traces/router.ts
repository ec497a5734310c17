import { router } from "../trpc.ts";
import { getTraceRoute } from "./get-trace.ts";
import { searchTracesRoute } from "./search-traces.ts";

export const tracesRouter = router({
  search: searchTracesRoute,
  get: getTraceRoute,
});
