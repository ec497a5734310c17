import { describe, expect, it } from "vitest";
import type { Cluster, RouteAction, Snapshot } from "../snapshot.ts";
import { checkSnapshot } from "./check.ts";

const cluster = (service: string, subset: string | null = null): Cluster => ({ service, subset, endpoints: [], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } });

function snapshot(routes: RouteAction[], clusters: Record<string, Cluster>, upstreams = ["order-service"]): Snapshot {
  return {
    service: "frontend",
    namespace: "default",
    clusters,
    virtualHosts: upstreams.map((upstream) => ({ upstream, routes })),
    inbound: { mtlsMode: "PERMISSIVE", authorization: [] },
    outboundMtls: {},
  };
}

const split: RouteAction = {
  match: [],
  destinations: [
    { cluster: "order-service|v1", weight: 90 },
    { cluster: "order-service|v2", weight: 10 },
  ],
};

describe("checkSnapshot", () => {
  it("accepts routes whose clusters all exist and whose weights sum to 100", () => {
    expect(checkSnapshot(snapshot([split], { "order-service|v1": cluster("order-service", "v1"), "order-service|v2": cluster("order-service", "v2") }))).toEqual({ ok: true });
  });

  it("names a route's missing cluster", () => {
    expect(checkSnapshot(snapshot([split], { "order-service|v1": cluster("order-service", "v1") }))).toEqual({
      ok: false,
      errors: ['upstream "order-service" route 0 points at cluster "order-service|v2", which the snapshot does not contain'],
    });
  });

  it("refuses weights that do not sum to 100 and a missing mirror cluster", () => {
    const route: RouteAction = { name: "r", match: [], destinations: [{ cluster: "a", weight: 50 }], mirror: { cluster: "shadow", percentage: 10 } };
    expect(checkSnapshot(snapshot([route], { a: cluster("a") }))).toEqual({
      ok: false,
      errors: ['upstream "order-service" route 0 (r): weights sum to 50, expected 100', 'upstream "order-service" route 0 (r) mirrors to cluster "shadow", which the snapshot does not contain'],
    });
  });

  it("refuses two virtual hosts for one upstream and a cluster stored under another name", () => {
    const route: RouteAction = { match: [], destinations: [{ cluster: "a", weight: 100 }] };
    expect(checkSnapshot(snapshot([route], { a: cluster("b") }, ["x", "x"]))).toEqual({
      ok: false,
      errors: ['upstream "x" has more than one virtual host', 'cluster "a" holds b; name it "b"'],
    });
  });

  it("does not mistake inherited object properties for clusters", () => {
    const route: RouteAction = { match: [], destinations: [{ cluster: "toString", weight: 100 }] };
    expect(checkSnapshot(snapshot([route], {})).ok).toBe(false);
  });
});
