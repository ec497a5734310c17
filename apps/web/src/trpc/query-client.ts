// One QueryClient recipe for the server (one per request) and the browser (one per tab): superjson so Dates survive
// the server → browser hand-off, a short staleTime so hydrated data is not refetched the moment it arrives, and no
// retries — the dashboard polls every few seconds anyway, and a retry would only delay showing the error.
import { defaultShouldDehydrateQuery, QueryClient } from "@tanstack/react-query";
import superjson from "superjson";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 4_000, retry: false },
      dehydrate: {
        serializeData: superjson.serialize,
        shouldDehydrateQuery: (query) => defaultShouldDehydrateQuery(query) || query.state.status === "pending",
      },
      hydrate: { deserializeData: superjson.deserialize },
    },
  });
}
