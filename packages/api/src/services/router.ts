import { router } from "../trpc.ts";
import { listServicesRoute } from "./list-services.ts";

export const servicesRouter = router({
  list: listServicesRoute,
});
