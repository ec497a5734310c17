// tRPC for server components: procedures are called in-process (no HTTP hop) into a per-request QueryClient whose
// results are handed to the browser through <HydrateClient>, so the first paint already has data.
import "server-only";
import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { cache, type ReactNode } from "react";
import { appRouter, type AppRouter, type Context } from "@trellis/api";
import { getDatabase } from "../server/db.ts";
import { createQueryClient } from "./query-client.ts";

const createContext = cache(async (): Promise<Context> => ({ db: await getDatabase() }));

export const getQueryClient = cache(createQueryClient);

export const trpc = createTRPCOptionsProxy<AppRouter>({
  router: appRouter,
  ctx: createContext,
  queryClient: getQueryClient,
});

export function HydrateClient({ children }: { children: ReactNode }) {
  return <HydrationBoundary state={dehydrate(getQueryClient())}>{children}</HydrationBoundary>;
}
