// services.list: RED numbers per service for the dashboard's services table — what each service received over the
// range, with the same split by version (canary vs. stable) — folded from the workload view's edge totals.
import type pg from "pg";
import { addTotals, emptyTotals, summarize, type RedSummary, type RedTotals } from "./red-totals.ts";
import { readEdgeTotals, type Endpoint } from "./read-edge-totals.ts";
import { resolveRollupRange } from "./rollup-range.ts";
import { compare } from "../sql-values.ts";
import { resolveTimeRange, type TimeRangeInput } from "./query-helpers.ts";

export type VersionStats = RedSummary & { version: string };

/** A service's inbound traffic; a service that only made calls in the range has zero rates. */
export type ServiceStats = RedSummary & { service: string; namespace: string; versions: VersionStats[] };

export type FindServiceStatsOptions = TimeRangeInput & { pool: pg.Pool; namespace?: string };

const DEFAULT_WINDOW_SECONDS = 300;
/** What the rollups call a peer they could not identify: a caller from outside the mesh is not a service. */
const UNKNOWN = "unknown";

type Accumulator = { service: string; namespace: string; totals: RedTotals; versions: Map<string, RedTotals> };

export async function findServiceStats({ pool, namespace, ...rangeInput }: FindServiceStatsOptions): Promise<ServiceStats[]> {
  const now = rangeInput.now ?? new Date();
  const range = await resolveRollupRange(pool, resolveTimeRange(rangeInput, DEFAULT_WINDOW_SECONDS), now);
  const edges = await readEdgeTotals({ pool, range, view: "workload", namespace });

  const services = new Map<string, Accumulator>();
  const serviceOf = ({ namespace: ns, service }: Endpoint): Accumulator => {
    const key = `${ns}\u0000${service}`;
    let entry = services.get(key);
    if (!entry) services.set(key, (entry = { service, namespace: ns, totals: emptyTotals(), versions: new Map() }));
    return entry;
  };
  const versionOf = (entry: Accumulator, version: string | null): RedTotals => {
    const name = version ?? UNKNOWN;
    let totals = entry.versions.get(name);
    if (!totals) entry.versions.set(name, (totals = emptyTotals()));
    return totals;
  };
  for (const { source, destination, totals } of edges) {
    if (namespace === undefined || destination.namespace === namespace) {
      const entry = serviceOf(destination);
      addTotals(entry.totals, totals);
      addTotals(versionOf(entry, destination.version), totals);
    }
    if (source.service !== UNKNOWN && (namespace === undefined || source.namespace === namespace)) versionOf(serviceOf(source), source.version);
  }

  return [...services.values()]
    .map(({ service, namespace: ns, totals, versions }) => ({
      service,
      namespace: ns,
      ...summarize(totals, range.seconds),
      versions: [...versions]
        .map(([version, versionTotals]) => ({ version, ...summarize(versionTotals, range.seconds) }))
        .sort((a, b) => compare(a.version, b.version)),
    }))
    .sort((a, b) => compare(a.service, b.service) || compare(a.namespace, b.namespace));
}
