// tRPC's building blocks for every router: the request context (one database handle), superjson so Dates cross
// the wire intact, and the base procedure through which every error is mapped once (errors.ts).
import { initTRPC } from "@trpc/server";
import superjson from "superjson";
import type { Database } from "@trellis/db";
import { toTRPCError } from "./errors.ts";

export type Context = {
  db: Database;
  /** The control plane's REST base URL: policy changes go through it (it validates, stores and pushes). */
  controlPlaneUrl?: string;
};

const t = initTRPC.context<Context>().create({ transformer: superjson });

const mapErrors = t.middleware(async ({ next, path }) => {
  const result = await next();
  if (result.ok) return result;
  throw toTRPCError(result.error, path);
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);
