import { describe, expect, it } from "vitest";
import type { Snapshot } from "@trellis/mesh-config";
import { resolveRoute } from "./logical.ts";

const endpoint = (workloadId: string) => ({ address: `127.0.0.1:${workloadId.length + 15000}`, workloadId, version: "v1", labels: {} });
const snapshot: Snapshot = {
  service: "frontend",
  clusters: { orders: { endpoints: [endpoint("o1"), endpoint("o22"), endpoint("o333")] }, empty: { endpoints: [] } },
  routes: [
    { upstream: "order-service", cluster: "orders" },
    { upstream: "empty-service", cluster: "empty" },
  ],
};

describe("resolveRoute (logical)", () => {
  it("is NR before any config", () => {
    expect(resolveRoute(null, "order-service")).toMatchObject({ ok: false, flag: "NR" });
  });

  it("is NR for an upstream the config does not route", () => {
    expect(resolveRoute(snapshot, "payment-service")).toMatchObject({ ok: false, flag: "NR", reason: expect.stringContaining("payment-service") as string });
  });

  it("finds the route's cluster", () => {
    expect(resolveRoute(snapshot, "order-service")).toEqual({ ok: true, cluster: "orders" });
  });
});
