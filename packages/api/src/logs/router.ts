import { router } from "../trpc.ts";
import { searchLogsRoute } from "./search-logs.ts";

export const logsRouter = router({
  search: searchLogsRoute,
});
