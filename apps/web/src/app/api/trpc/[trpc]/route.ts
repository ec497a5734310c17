// The tRPC API over HTTP at /api/trpc/*, for the browser (and any other client of the dashboard's API).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter, toTRPCError, type Context } from "@trellis/api";
import { env } from "../../../../env.ts";
import { getDatabase } from "../../../../server/db.ts";

export const dynamic = "force-dynamic";

async function createContext(): Promise<Context> {
  try {
    // Policy changes (policies.apply, policies.rollback) go through the control plane's REST API.
    return { db: await getDatabase(), controlPlaneUrl: env.TRELLIS_CONTROL_PLANE_URL };
  } catch (error) {
    // Context creation runs before any procedure, so its errors are mapped here by the same function.
    throw toTRPCError(error, "createContext");
  }
}

function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({ endpoint: "/api/trpc", req, router: appRouter, createContext });
}

export { handler as GET, handler as POST };
