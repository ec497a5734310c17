// Outbound, logical layer: the service the app asked for, resolved through the current snapshot's routes to the
// cluster that serves it. Route policy (weights, matches, timeouts) lands here later.
import type { Snapshot } from "@trellis/mesh-config";

export type LogicalResult = { ok: true; cluster: string } | { ok: false; flag: "NR"; reason: string };

export function resolveRoute(snapshot: Snapshot | null, upstream: string): LogicalResult {
  if (snapshot === null) return { ok: false, flag: "NR", reason: `no config from the control plane yet, so no route to "${upstream}"` };
  const route = snapshot.routes.find((r) => r.upstream === upstream);
  if (!route) return { ok: false, flag: "NR", reason: `the config has no route for upstream "${upstream}"` };
  return { ok: true, cluster: route.cluster };
}
