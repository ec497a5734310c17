import { describe, expect, it } from "vitest";
import { matchUpstream, readTarget } from "./forward-proxy.ts";

describe("forward proxy target", () => {
  it("reads host and origin-form path from an absolute URL", () => {
    expect(readTarget({ url: "http://Order-Service:8080/orders/1?x=2", headers: { host: "ignored" } })).toEqual({ host: "order-service", path: "/orders/1?x=2" });
  });

  it("falls back to the Host header without its port", () => {
    expect(readTarget({ url: "/orders", headers: { host: "order-service:80" } })).toEqual({ host: "order-service", path: "/orders" });
  });

  it("has no target without either", () => {
    expect(readTarget({ url: "/orders", headers: {} })).toBeNull();
  });

  it("matches an upstream by its name or the first label of a cluster DNS name", () => {
    const known = ["order-service", "catalog-service"];
    expect(matchUpstream("order-service", known)).toBe("order-service");
    expect(matchUpstream("order-service.default.svc.cluster.local", known)).toBe("order-service");
    expect(matchUpstream("billing-service", known)).toBeNull();
    expect(matchUpstream("billing.order-service", known)).toBeNull();
  });
});
