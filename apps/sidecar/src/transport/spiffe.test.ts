import { describe, expect, it } from "vitest";
import { buildSpiffeIdString, parseSpiffeId, principalOf, readSpiffeId } from "./spiffe.ts";

describe("SPIFFE IDs", () => {
  it("parses the mesh's form and refuses others", () => {
    expect(parseSpiffeId("spiffe://cluster.local/ns/default/sa/frontend")).toEqual({
      id: "spiffe://cluster.local/ns/default/sa/frontend",
      trustDomain: "cluster.local",
      namespace: "default",
      serviceAccount: "frontend",
    });
    expect(parseSpiffeId("spiffe://cluster.local/ns/default")).toBeNull();
    expect(parseSpiffeId("https://cluster.local/ns/default/sa/frontend")).toBeNull();
    expect(parseSpiffeId("spiffe://cluster.local/ns/default/sa/frontend/extra")).toBeNull();
  });

  it("reads the one URI SAN of a certificate", () => {
    expect(readSpiffeId("URI:spiffe://td/ns/a/sa/b")?.serviceAccount).toBe("b");
    expect(readSpiffeId("DNS:x.local, URI:spiffe://td/ns/a/sa/b")?.namespace).toBe("a");
    expect(readSpiffeId("URI:spiffe://td/ns/a/sa/b, URI:spiffe://td/ns/a/sa/c")).toBeNull();
    expect(readSpiffeId("DNS:x.local")).toBeNull();
    expect(readSpiffeId(undefined)).toBeNull();
  });

  it("builds IDs and Istio principals", () => {
    const id = buildSpiffeIdString({ trustDomain: "cluster.local", namespace: "shop", serviceAccount: "payment-service" });
    expect(id).toBe("spiffe://cluster.local/ns/shop/sa/payment-service");
    expect(principalOf(id)).toBe("cluster.local/ns/shop/sa/payment-service");
  });
});
