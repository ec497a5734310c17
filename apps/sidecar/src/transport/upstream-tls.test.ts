import { describe, expect, it } from "vitest";
import { checkPeerIdentity, createUpstreamTls } from "./upstream-tls.ts";

const payments = "spiffe://cluster.local/ns/default/sa/payments";

describe("checkPeerIdentity", () => {
  it("accepts the cluster's SPIFFE ID", () => {
    expect(checkPeerIdentity(`URI:${payments}`, payments, "payments")).toBeUndefined();
  });

  it("refuses another service's identity, naming both", () => {
    const error = checkPeerIdentity("URI:spiffe://cluster.local/ns/default/sa/catalog", payments, "payments|v2");
    expect(error?.message).toBe(`server identity spiffe://cluster.local/ns/default/sa/catalog is not ${payments}, the identity cluster payments|v2 must present`);
  });

  it("refuses a certificate without a SPIFFE ID, or with two", () => {
    expect(checkPeerIdentity("DNS:payments.local", payments, "payments")?.message).toContain("without a SPIFFE ID (SAN DNS:payments.local)");
    expect(checkPeerIdentity(undefined, payments, "payments")?.message).toContain("(SAN none)");
    expect(checkPeerIdentity(`URI:${payments}, URI:spiffe://cluster.local/ns/default/sa/other`, payments, "payments")).toBeInstanceOf(Error);
  });
});

describe("createUpstreamTls", () => {
  it("is plaintext everywhere without a mesh identity", () => {
    const upstreamTls = createUpstreamTls({ meshTls: null, currentSnapshot: () => null });
    expect(upstreamTls("payments")).toBeNull();
  });
});
