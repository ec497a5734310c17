// The whole API: one sub-router per domain. The web app serves it at /api/trpc and calls it directly from
// server components.
import { logsRouter } from "./logs/router.ts";
import { meshRouter } from "./mesh/router.ts";
import { metricsRouter } from "./metrics/router.ts";
import { policiesRouter } from "./policies/router.ts";
import { servicesRouter } from "./services/router.ts";
import { topologyRouter } from "./topology/router.ts";
import { tracesRouter } from "./traces/router.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  services: servicesRouter,
  topology: topologyRouter,
  metrics: metricsRouter,
  traces: tracesRouter,
  logs: logsRouter,
  mesh: meshRouter,
  policies: policiesRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
