// A snapshot is consistent before it gets a version (go-control-plane's Consistent()): every route and mirror names
// a cluster it contains, each route's weights sum to 100, and each upstream has one virtual host.
import type { Snapshot } from "../snapshot.ts";

export type SnapshotCheck = { ok: true } | { ok: false; errors: string[] };

export function checkSnapshot(snapshot: Snapshot): SnapshotCheck {
  const errors: string[] = [];
  const has = (cluster: string) => Object.hasOwn(snapshot.clusters, cluster);
  const seen = new Set<string>();
  for (const host of snapshot.virtualHosts) {
    if (seen.has(host.upstream)) errors.push(`upstream "${host.upstream}" has more than one virtual host`);
    seen.add(host.upstream);
    host.routes.forEach((route, i) => {
      const where = `upstream "${host.upstream}" route ${i}${route.name === undefined ? "" : ` (${route.name})`}`;
      for (const { cluster } of route.destinations) {
        if (!has(cluster)) errors.push(`${where} points at cluster "${cluster}", which the snapshot does not contain`);
      }
      const sum = route.destinations.reduce((total, d) => total + d.weight, 0);
      if (sum !== 100) errors.push(`${where}: weights sum to ${sum}, expected 100`);
      if (route.mirror !== undefined && !has(route.mirror.cluster)) {
        errors.push(`${where} mirrors to cluster "${route.mirror.cluster}", which the snapshot does not contain`);
      }
    });
  }
  for (const [name, cluster] of Object.entries(snapshot.clusters)) {
    const expected = cluster.subset === null ? cluster.service : `${cluster.service}|${cluster.subset}`;
    if (name !== expected) errors.push(`cluster "${name}" holds ${expected}; name it "${expected}"`);
  }
  return errors.length === 0 ? { ok: true } : { ok: false, errors };
}
