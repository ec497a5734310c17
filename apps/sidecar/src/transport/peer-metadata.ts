// Who called, as the calling sidecar describes its workload in x-trellis-peer-metadata (Istio's peer metadata
// exchange, reduced to one header): the destination's metrics get their source_* labels from it. The outbound side
// encodes it once per sidecar; inbound decodes it per request through a small cache, so a steady caller costs a
// Map lookup and no parsing.
import type { WorkloadLabels } from "../telemetry/records.ts";

export const PEER_METADATA_HEADER = "x-trellis-peer-metadata";

const KEYS = ["workload", "app", "version", "namespace"] as const;
/** Istio's label value when a peer did not say. */
const UNKNOWN = "unknown";
/** Distinct callers remembered; beyond this the cache starts over (a bound, not an LRU: callers are few). */
const CACHE_LIMIT = 256;

/** `workload=<id>;app=<service>;version=<v>;namespace=<ns>`, values percent-encoded where they hold ; = % or non-ASCII. */
export function encodePeerMetadata(labels: WorkloadLabels): string {
  return KEYS.map((key) => `${key}=${encodeURIComponent(labels[key])}`).join(";");
}

/** Parses one header value; null when it is absent, or names no workload (then the source is unknown). */
export function parsePeerMetadata(value: string): WorkloadLabels | null {
  const labels: WorkloadLabels = { workload: UNKNOWN, app: UNKNOWN, version: UNKNOWN, namespace: UNKNOWN };
  let sawWorkload = false;
  for (const pair of value.split(";")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key !== "workload" && key !== "app" && key !== "version" && key !== "namespace") continue; // newer peers may say more
    const decoded = decodeValue(pair.slice(eq + 1).trim());
    if (decoded === null || decoded === "") continue;
    labels[key] = decoded;
    if (key === "workload") sawWorkload = true;
  }
  return sawWorkload ? Object.freeze(labels) : null;
}

/** A per-sidecar decoder that hands back the same frozen object for the same header value. */
export function createPeerMetadataDecoder(): (header: string | string[] | undefined) => WorkloadLabels | null {
  const cache = new Map<string, WorkloadLabels | null>();
  return (header) => {
    if (header === undefined) return null;
    const value = typeof header === "string" ? header : header[0];
    if (value === undefined) return null;
    const cached = cache.get(value);
    if (cached !== undefined) return cached;
    if (cache.size >= CACHE_LIMIT) cache.clear();
    const parsed = parsePeerMetadata(value);
    cache.set(value, parsed);
    return parsed;
  };
}

function decodeValue(raw: string): string | null {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null; // a broken escape: treat the label as not given rather than fail the request
  }
}
