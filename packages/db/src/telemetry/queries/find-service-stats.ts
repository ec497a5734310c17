// services.list: RED numbers per service for the dashboard's services table — what each service received over the
// range, with the same split by version (canary vs. stable) — folded from the workload view's edge totals.
import type pg from "pg";
import { addTotals, emptyTotals, summarize, type RedSummary, type RedTotals } from "./red-totals.ts";
import { readEdgeTotals, type Endpoint } from "./read-edge-totals.ts";
import { resolveRollupRange } from "./rollup-range.ts";
import { compare } from "../sql-values.ts";
import { resolveTimeRange, type TimeRangeInput } from "./query-helpers.ts";

export type VersionStats = RedSummary & { version: string };

/**
 * A service's inbound traffic. A service nothing in the mesh calls — an ingress gateway, a job, a load generator —
 * shows what it sent instead (as Kiali shows an ingress gateway), so it does not look idle while it drives traffic.
 */
export type ServiceStats = RedSummary & { service: string; namespace: string; versions: VersionStats[] };

export type FindServiceStatsOptions = TimeRangeInput & { pool: pg.Pool; namespace?: string };

const DEFAULT_WINDOW_SECONDS = 300;
/** What the rollups call a peer they could not identify: a caller from outside the mesh is not a service. */
const UNKNOWN = "unknown";

type Direction = { totals: RedTotals; versions: Map<string, RedTotals> };
type Accumulator = { service: string; namespace: string; inbound: Direction; outbound: Direction };

export async function findServiceStats({ pool, namespace, ...rangeInput }: FindServiceStatsOptions): Promise<ServiceStats[]> {
  const now = rangeInput.now ?? new Date();
  const range = await resolveRollupRange(pool, resolveTimeRange(rangeInput, DEFAULT_WINDOW_SECONDS), now);
  const edges = await readEdgeTotals({ pool, range, view: "workload", namespace });

  const services = new Map<string, Accumulator>();
  const serviceOf = ({ namespace: ns, service }: Endpoint): Accumulator => {
    const key = `${ns}\u0000${service}`;
    let entry = services.get(key);
    if (!entry) {
      entry = { service, namespace: ns, inbound: { totals: emptyTotals(), versions: new Map() }, outbound: { totals: emptyTotals(), versions: new Map() } };
      services.set(key, entry);
    }
    return entry;
  };
  const add = (direction: Direction, version: string | null, totals: RedTotals) => {
    const name = version ?? UNKNOWN;
    let versionTotals = direction.versions.get(name);
    if (!versionTotals) direction.versions.set(name, (versionTotals = emptyTotals()));
    addTotals(direction.totals, totals);
    addTotals(versionTotals, totals);
  };
  for (const { source, destination, totals } of edges) {
    if (namespace === undefined || destination.namespace === namespace) add(serviceOf(destination).inbound, destination.version, totals);
    if (source.service !== UNKNOWN && (namespace === undefined || source.namespace === namespace)) add(serviceOf(source).outbound, source.version, totals);
  }

  return [...services.values()]
    .map(({ service, namespace: ns, inbound, outbound }) => {
      const shown = inbound.totals.requests === 0 && outbound.totals.requests > 0 ? outbound : inbound;
      // Every version the service ran is listed, even one with no traffic in the direction shown.
      const versions = new Set([...inbound.versions.keys(), ...outbound.versions.keys()]);
      return {
        service,
        namespace: ns,
        ...summarize(shown.totals, range.seconds),
        versions: [...versions]
          .map((version) => ({ version, ...summarize(shown.versions.get(version) ?? emptyTotals(), range.seconds) }))
          .sort((a, b) => compare(a.version, b.version)),
      };
    })
    .sort((a, b) => compare(a.service, b.service) || compare(a.namespace, b.namespace));
}
