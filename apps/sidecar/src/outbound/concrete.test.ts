import { describe, expect, it } from "vitest";
import type { Snapshot } from "@trellis/mesh-config";
import { createRoundRobinBalancer } from "./concrete.ts";

const endpoint = (workloadId: string) => ({ address: `127.0.0.1:${workloadId.length + 15000}`, workloadId, version: "v1", labels: {} });
const snapshot: Snapshot = {
  service: "frontend",
  clusters: { orders: { endpoints: [endpoint("o1"), endpoint("o22"), endpoint("o333")] }, empty: { endpoints: [] } },
  routes: [
    { upstream: "order-service", cluster: "orders" },
    { upstream: "empty-service", cluster: "empty" },
  ],
};

describe("round-robin balancer (concrete)", () => {
  it("cycles through the cluster's endpoints", () => {
    const balancer = createRoundRobinBalancer();
    const picks = Array.from({ length: 4 }, () => {
      const result = balancer.pick(snapshot, "orders");
      return result.ok ? result.endpoint.workloadId : result.flag;
    });
    expect(picks).toEqual(["o1", "o22", "o333", "o1"]);
  });

  it("is UH when the cluster is empty or missing", () => {
    const balancer = createRoundRobinBalancer();
    expect(balancer.pick(snapshot, "empty")).toMatchObject({ ok: false, flag: "UH" });
    expect(balancer.pick(snapshot, "nope")).toMatchObject({ ok: false, flag: "UH" });
  });

  it("stays in range when a cluster shrinks", () => {
    const balancer = createRoundRobinBalancer();
    balancer.pick(snapshot, "orders");
    balancer.pick(snapshot, "orders");
    const smaller: Snapshot = { ...snapshot, clusters: { orders: { endpoints: [endpoint("only")] } } };
    expect(balancer.pick(smaller, "orders")).toMatchObject({ ok: true, endpoint: { workloadId: "only" } });
  });
});
