import { router } from "../trpc.ts";
import { getGraphRoute } from "./get-graph.ts";

export const topologyRouter = router({
  graph: getGraphRoute,
});
