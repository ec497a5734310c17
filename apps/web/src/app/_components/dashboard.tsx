"use client";
// The dashboard page's live part: three queries refreshed every few seconds, laid out for reading during an
// incident — graph on top, services and sidecars side by side below, errors shown where the data would be.
import { useQuery } from "@tanstack/react-query";
import { GraphLegend, ServiceGraph } from "@trellis/ui";
import { useTRPC } from "../../trpc/react.tsx";
import { QueryBody } from "./query-status.tsx";
import { ServicesTable } from "./services-table.tsx";
import { SidecarsPanel } from "./sidecars-panel.tsx";

const REFRESH_MS = 5_000;

export function Dashboard({ windowSeconds }: { windowSeconds: number }) {
  const trpc = useTRPC();
  const refresh = { refetchInterval: REFRESH_MS };
  const services = useQuery(trpc.services.list.queryOptions({ windowSeconds }, refresh));
  const graph = useQuery(trpc.topology.graph.queryOptions({ windowSeconds }, refresh));
  const sidecars = useQuery(trpc.mesh.sidecars.queryOptions(undefined, refresh));

  const windowLabel = describeWindow(windowSeconds);
  const updatedAt = Math.max(services.dataUpdatedAt, graph.dataUpdatedAt);
  const noTraffic = services.data?.length === 0 && graph.data?.nodes.length === 0;

  return (
    <div className="page">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden />
          <h1>Trellis</h1>
          <span className="muted">service mesh</span>
        </div>
        <div className="topbar-meta" data-testid="refresh-status">
          Last {windowLabel} · refreshes every {REFRESH_MS / 1000} s
          {updatedAt > 0 && (
            <>
              {" "}
              · updated <time suppressHydrationWarning>{new Date(updatedAt).toLocaleTimeString()}</time>
            </>
          )}
          {(services.isFetching || graph.isFetching) && <span className="spinner" aria-label="refreshing" />}
        </div>
      </header>

      <main className="content">
        {noTraffic ? (
          <section className="panel span-all empty-state" data-testid="empty-state">
            <h2>No traffic in the last {windowLabel} — is the demo running?</h2>
            <p className="muted">
              Requests through the mesh show up here within seconds. Start everything with <code>trellis up</code>, or point an
              OpenTelemetry exporter at the ingest (OTLP/HTTP on port 4318).
            </p>
          </section>
        ) : (
          <>
            <section className="panel span-all" aria-labelledby="graph-title">
              <div className="panel-header">
                <h2 id="graph-title">Service graph</h2>
                <GraphLegend />
              </div>
              <QueryBody query={graph} what="the service graph">
                {(data) => <ServiceGraph nodes={data.nodes} edges={data.edges.map(withOptionalP50)} />}
              </QueryBody>
            </section>

            <section className="panel" aria-labelledby="services-title">
              <div className="panel-header">
                <h2 id="services-title">Services</h2>
                <span className="muted">server-side view, last {windowLabel}</span>
              </div>
              <QueryBody query={services} what="services">
                {(data) => <ServicesTable services={data} />}
              </QueryBody>
            </section>
          </>
        )}

        <section className="panel" aria-labelledby="sidecars-title">
          <div className="panel-header">
            <h2 id="sidecars-title">Sidecars</h2>
            {sidecars.data && <span className="muted">{sidecars.data.length} registered</span>}
          </div>
          <QueryBody query={sidecars} what="sidecars">
            {(data) => <SidecarsPanel sidecars={data} />}
          </QueryBody>
        </section>
      </main>
    </div>
  );
}

/** An edge without latency samples (TCP only) has no p50; the graph then labels it with its rate alone. */
function withOptionalP50<T extends { p50Ms: number | null }>(edge: T): Omit<T, "p50Ms"> & { p50Ms?: number } {
  return { ...edge, p50Ms: edge.p50Ms ?? undefined };
}

function describeWindow(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}
