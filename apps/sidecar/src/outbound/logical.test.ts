import { describe, expect, it } from "vitest";
import { testCluster, testEndpoint, testRoute, testSnapshot } from "../testing/snapshots.ts";
import { describeNoRoute, findRoute, pickCluster } from "./logical.ts";
import { routingTableFor, type CompiledVirtualHost } from "./routing-table.ts";

const snapshot = testSnapshot({
  clusters: [
    testCluster("order-service", "v1", [testEndpoint("order-v1-0")]),
    testCluster("order-service", "v2", [testEndpoint("order-v2-0")]),
    testCluster("catalog-service", null, [testEndpoint("catalog-v1-0")]),
  ],
  virtualHosts: [
    {
      upstream: "order-service",
      routes: [
        testRoute("order-service|v2", { name: "canary-header", match: [{ headers: { "x-canary": { exact: "true" } } }] }),
        testRoute("order-service|v1", { name: "reads", match: [{ method: { exact: "GET" }, uri: { prefix: "/orders" } }] }),
        testRoute("order-service|v1", { destinations: [{ cluster: "order-service|v1", weight: 90 }, { cluster: "order-service|v2", weight: 10 }] }),
      ],
    },
    { upstream: "catalog-service", routes: [testRoute("catalog-service", { match: [{ uri: { prefix: "/items" } }] })] },
  ],
});
const table = routingTableFor(snapshot);
const host = (upstream: string): CompiledVirtualHost => {
  const found = table?.virtualHosts.get(upstream);
  if (!found) throw new Error(`no virtual host ${upstream}`);
  return found;
};

describe("findRoute (logical)", () => {
  it("takes the first route whose match holds, in order", () => {
    expect(findRoute(host("order-service"), "/orders/1", "GET", { "x-canary": "true" })?.name).toBe("canary-header");
    expect(findRoute(host("order-service"), "/orders/1", "GET", {})?.name).toBe("reads");
    expect(findRoute(host("order-service"), "/orders/1", "POST", {})?.label).toBe("order-service route #2");
  });

  it("is null (→ 404 NR) when no route matches, and says why", () => {
    expect(findRoute(host("catalog-service"), "/cart", "GET", {})).toBeNull();
    expect(describeNoRoute("catalog-service", host("catalog-service"), "GET", "/cart")).toBe('none of the 1 route(s) of upstream "catalog-service" matches GET /cart');
    expect(describeNoRoute("payment-service", undefined, "GET", "/")).toBe('the config has no route for upstream "payment-service"');
  });
});

describe("pickCluster (logical)", () => {
  const split = host("order-service").routes[2];
  if (!split) throw new Error("no split route");

  it("splits by weight over evenly spread draws exactly 90/10", () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i += 1) {
      const name = pickCluster(split, () => i / 1000)?.name ?? "none";
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ "order-service|v1": 900, "order-service|v2": 100 });
  });

  it("maps the edges of the range to the first and last destination", () => {
    expect(pickCluster(split, () => 0)?.name).toBe("order-service|v1");
    expect(pickCluster(split, () => 0.8999)?.name).toBe("order-service|v1");
    expect(pickCluster(split, () => 0.9)?.name).toBe("order-service|v2");
    expect(pickCluster(split, () => 0.999999)?.name).toBe("order-service|v2");
  });

  it("does not draw at all for a single destination", () => {
    const single = host("catalog-service").routes[0];
    if (!single) throw new Error("no route");
    expect(pickCluster(single, () => { throw new Error("drew"); })?.name).toBe("catalog-service");
  });
});
