// The dashboard's home: the service graph, the services table and the sidecars, over the last five minutes.
// Data is fetched on the server for the first paint; the browser then refreshes it every few seconds.
import { getQueryClient, HydrateClient, trpc } from "../trpc/server.tsx";
import { Dashboard } from "./_components/dashboard.tsx";

// Live data: never prerendered at build time (there is no database then), always rendered per request.
export const dynamic = "force-dynamic";

const WINDOW_SECONDS = 300;

export default async function HomePage() {
  // prefetchQuery never throws: a failed query stays out of the hydrated state, the browser asks again and shows
  // the error where the data would be.
  const queryClient = getQueryClient();
  await Promise.all([
    queryClient.prefetchQuery(trpc.services.list.queryOptions({ windowSeconds: WINDOW_SECONDS })),
    queryClient.prefetchQuery(trpc.topology.graph.queryOptions({ windowSeconds: WINDOW_SECONDS })),
    queryClient.prefetchQuery(trpc.mesh.sidecars.queryOptions()),
  ]);
  return (
    <HydrateClient>
      <Dashboard windowSeconds={WINDOW_SECONDS} />
    </HydrateClient>
  );
}
