import { router } from "../trpc.ts";
import { getRedRoute } from "./get-red.ts";

export const metricsRouter = router({
  red: getRedRoute,
});
