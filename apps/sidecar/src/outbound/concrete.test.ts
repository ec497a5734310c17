import { describe, expect, it } from "vitest";
import { testCluster, testEndpoint, testRoute, testSnapshot } from "../testing/snapshots.ts";
import { createLoadBalancer, describeNoEndpoints } from "./concrete.ts";
import { routingTableFor, type CompiledCluster } from "./routing-table.ts";

type LoadBalancerKind = Parameters<typeof testCluster>[3];

function cluster(ids: string[], loadBalancer: LoadBalancerKind = "ROUND_ROBIN", subset: string | null = null): CompiledCluster {
  const snapshot = testSnapshot({
    clusters: [testCluster("order-service", subset, ids.map((id, i) => testEndpoint(id, `127.0.0.1:${15001 + i}`)), loadBalancer)],
    virtualHosts: [{ upstream: "order-service", routes: [testRoute(subset === null ? "order-service" : `order-service|${subset}`)] }],
  });
  const found = routingTableFor(snapshot)?.clusters.values().next().value;
  if (!found) throw new Error("no cluster");
  return found;
}

/** Deterministic draws for RANDOM and LEAST_REQUEST. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

describe("load balancer (concrete)", () => {
  it("cycles through the cluster's endpoints with ROUND_ROBIN", () => {
    const balancer = createLoadBalancer();
    const orders = cluster(["o1", "o2", "o3"]);
    expect(Array.from({ length: 4 }, () => balancer.pick(orders)?.workloadId)).toEqual(["o1", "o2", "o3", "o1"]);
  });

  it("keeps its round-robin cursor across config swaps and stays in range when a cluster shrinks", () => {
    const balancer = createLoadBalancer();
    balancer.pick(cluster(["o1", "o2", "o3"]));
    expect(balancer.pick(cluster(["o1", "o2", "o3"]))?.workloadId).toBe("o2");
    balancer.pick(cluster(["o1", "o2", "o3"]));
    expect(balancer.pick(cluster(["only"]))?.workloadId).toBe("only");
    expect(balancer.pick(cluster(["a", "b"]))?.workloadId).toBe("a");
  });

  it("skips endpoints `accept` refuses (ejected, already tried), keeping the balancer's order, and gives null when none is left", () => {
    const balancer = createLoadBalancer();
    const orders = cluster(["o1", "o2", "o3"]);
    const notO2 = (e: { workloadId: string }) => e.workloadId !== "o2";
    expect(Array.from({ length: 4 }, () => balancer.pick(orders, notO2)?.workloadId)).toEqual(["o1", "o3", "o3", "o1"]);
    expect(balancer.pick(orders, () => false)).toBeNull();
    expect(balancer.inFlight("o3")).toBe(2);
  });

  it("draws uniformly with RANDOM", () => {
    const balancer = createLoadBalancer({ random: sequence(0.1, 0.5, 0.9) });
    const orders = cluster(["o1", "o2", "o3"], "RANDOM");
    expect(Array.from({ length: 3 }, () => balancer.pick(orders)?.workloadId)).toEqual(["o1", "o2", "o3"]);
  });

  it("sends LEAST_REQUEST to the less loaded of two random endpoints, counting requests until released", () => {
    // Draws 0.0 then 0.0 pick endpoints #0 and #1 (the second draw skips over the first).
    const balancer = createLoadBalancer({ random: sequence(0, 0) });
    const orders = cluster(["o1", "o2", "o3"], "LEAST_REQUEST");
    const first = balancer.pick(orders);
    expect(first?.workloadId).toBe("o1"); // tie → the first of the two
    expect(balancer.pick(orders)?.workloadId).toBe("o2"); // o1 has one in flight
    expect([balancer.inFlight("o1"), balancer.inFlight("o2"), balancer.inFlight("o3")]).toEqual([1, 1, 0]);
    if (first) balancer.release(first);
    expect(balancer.inFlight("o1")).toBe(0);
    expect(balancer.pick(orders)?.workloadId).toBe("o1");
  });

  it("counts an endpoint's load across the clusters it belongs to", () => {
    const balancer = createLoadBalancer({ random: sequence(0, 0) });
    balancer.pick(cluster(["o1"], "ROUND_ROBIN", "v1"));
    expect(balancer.pick(cluster(["o1", "o2"], "LEAST_REQUEST"))?.workloadId).toBe("o2");
  });

  it("has nothing to pick in an empty cluster (→ 503 UH) and says which subset is empty", () => {
    const balancer = createLoadBalancer();
    expect(balancer.pick(cluster([]))).toBeNull();
    expect(describeNoEndpoints(cluster([]))).toBe('cluster "order-service" has no endpoints (no sidecar of order-service is connected)');
    expect(describeNoEndpoints(cluster([], "ROUND_ROBIN", "v2"))).toBe('cluster "order-service|v2" has no endpoints (no connected sidecar of order-service has the labels of subset "v2")');
  });
});
