import { describe, expect, it } from "vitest";
import { buildSpiffeId, parseSpiffeId } from "./spiffe.ts";

describe("SPIFFE IDs", () => {
  it("are built from trust domain, namespace and service account", () => {
    expect(buildSpiffeId({ trustDomain: "cluster.local", namespace: "default", serviceAccount: "order-service" })).toBe("spiffe://cluster.local/ns/default/sa/order-service");
  });

  it("parse back to the same identity", () => {
    const identity = { trustDomain: "prod.example_1", namespace: "shop", serviceAccount: "payment-service" };
    expect(parseSpiffeId(buildSpiffeId(identity))).toEqual(identity);
  });

  it("refuse IDs that are not of the mesh's ns/sa form", () => {
    expect(parseSpiffeId("spiffe://cluster.local/workload/x")).toBeNull();
    expect(parseSpiffeId("spiffe://Cluster.Local/ns/default/sa/x")).toBeNull();
    expect(parseSpiffeId("https://cluster.local/ns/default/sa/x")).toBeNull();
    expect(parseSpiffeId("spiffe://cluster.local/ns/default/sa/x/extra")).toBeNull();
  });
});
