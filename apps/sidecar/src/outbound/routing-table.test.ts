import { describe, expect, it } from "vitest";
import { testCluster, testEndpoint, testRoute, testSnapshot } from "../testing/snapshots.ts";
import { ISTIO_DEFAULT_RETRY_POLICY } from "./retry-policy.ts";
import { compileRoutingTable, routingTableFor } from "./routing-table.ts";

const orders = () =>
  testSnapshot({
    clusters: [
      testCluster("order-service", "v1", [testEndpoint("order-v1-0", "127.0.0.1:15201", { version: "v1" })]),
      testCluster("order-service", "v2", [testEndpoint("order-v2-0", "10.0.0.7:15202", { version: "v2" })]),
    ],
    virtualHosts: [
      {
        upstream: "order-service",
        routes: [
          testRoute("order-service|v2", { name: "canary", match: [{ headers: { "x-canary": { exact: "true" } } }], timeoutMs: 0 }),
          testRoute("order-service|v1", { destinations: [{ cluster: "order-service|v1", weight: 90 }, { cluster: "order-service|v2", weight: 10 }], timeoutMs: 250 }),
        ],
      },
    ],
  });

describe("compileRoutingTable", () => {
  it("resolves destinations to clusters with cumulative weights and parsed endpoint addresses", () => {
    const result = compileRoutingTable(orders());
    if (!result.ok) throw new Error(result.errors.join("; "));
    const host = result.table.virtualHosts.get("order-service");
    const [canary, split] = host?.routes ?? [];
    expect(canary).toMatchObject({ name: "canary", label: "canary", totalWeight: 100, cumulativeWeights: [100], timeoutMs: undefined });
    expect(split).toMatchObject({ name: undefined, label: "order-service route #1", totalWeight: 100, cumulativeWeights: [90, 100], timeoutMs: 250 });
    expect(split?.clusters.map((c) => c.name)).toEqual(["order-service|v1", "order-service|v2"]);
    expect(result.table.clusters.get("order-service|v2")?.endpoints[0]).toMatchObject({ target: { host: "10.0.0.7", port: 15202 }, description: "endpoint order-v2-0 at 10.0.0.7:15202" });
  });

  it("compiles a snapshot once: the same object gives the same table", () => {
    const snapshot = orders();
    const first = routingTableFor(snapshot);
    expect(first).not.toBeNull();
    expect(routingTableFor(snapshot)).toBe(first);
    expect(routingTableFor(orders())).not.toBe(first);
  });

  it("leaves zero-weight destinations out of the draw", () => {
    const snapshot = testSnapshot({
      clusters: [testCluster("a", "v1", []), testCluster("a", "v2", [])],
      virtualHosts: [{ upstream: "a", routes: [testRoute("a|v1", { destinations: [{ cluster: "a|v1", weight: 0 }, { cluster: "a|v2", weight: 100 }] })] }],
    });
    const result = compileRoutingTable(snapshot);
    expect(result.ok && result.table.virtualHosts.get("a")?.routes[0]?.clusters.map((c) => c.name)).toEqual(["a|v2"]);
  });

  it("refuses what it cannot serve, naming where: unknown cluster, all-zero weights, bad regex, duplicate upstream", () => {
    const snapshot = testSnapshot({
      clusters: [testCluster("a", null, [])],
      virtualHosts: [
        {
          upstream: "a",
          routes: [
            testRoute("a|v9"),
            testRoute("a", { destinations: [{ cluster: "a", weight: 0 }] }),
            testRoute("a", { match: [{ uri: { regex: "[" } }] }),
          ],
        },
        { upstream: "a", routes: [] },
      ],
    });
    const result = compileRoutingTable(snapshot);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      'virtualHosts[0].routes[0].destinations[0]: cluster "a|v9" is not in the snapshot\'s clusters',
      "virtualHosts[0].routes[1].destinations: every weight is 0, so the route can send traffic nowhere",
      expect.stringMatching(/^virtualHosts\[0\]\.routes\[2\]\.match\[0\]\.uri\.regex: "\[" is not a regular expression/),
      'virtualHosts[1]: upstream "a" has more than one virtual host',
    ]);
  });

  it("compiles each route's retry policy (Istio's default when none is given) and its mirror cluster", () => {
    const snapshot = testSnapshot({
      clusters: [testCluster("order-service", null, [testEndpoint("o1")]), testCluster("shadow", null, [testEndpoint("s1", "127.0.0.1:15002")])],
      virtualHosts: [
        {
          upstream: "order-service",
          routes: [
            testRoute("order-service", { retries: { attempts: 4, perTryTimeoutMs: 50, retryOn: ["5xx", "reset"] }, mirror: { cluster: "shadow", percentage: 25 } }),
            testRoute("order-service", { mirror: { cluster: "shadow", percentage: 0 } }),
          ],
        },
      ],
    });
    const [retried, plain] = routingTableFor(snapshot)?.virtualHosts.get("order-service")?.routes ?? [];
    expect(retried?.retry).toMatchObject({ retries: 4, perTryTimeoutMs: 50, on5xx: true, onReset: true, onGatewayError: false });
    expect(retried?.mirror).toMatchObject({ cluster: { name: "shadow" }, percentage: 25 });
    expect(plain?.retry).toBe(ISTIO_DEFAULT_RETRY_POLICY);
    expect(plain?.mirror).toBeUndefined();
  });
});
