import { router } from "../trpc.ts";
import { listSidecarsRoute } from "./list-sidecars.ts";

export const meshRouter = router({
  sidecars: listSidecarsRoute,
});
