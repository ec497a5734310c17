"use client";
// tRPC for client components: `useTRPC()` gives typed query options (`trpc.services.list.queryOptions(...)`) for
// React Query; the client batches calls to /api/trpc and decodes superjson.
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import superjson from "superjson";
import type { AppRouter } from "@trellis/api";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

export function createBrowserTRPCClient() {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        // Same origin in the browser; client components never query during server rendering (data is prefetched).
        url: typeof window === "undefined" ? "http://127.0.0.1/api/trpc" : "/api/trpc",
        transformer: superjson,
      }),
    ],
  });
}
