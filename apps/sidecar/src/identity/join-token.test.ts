import { describe, expect, it } from "vitest";
import { buildSpiffeId, readTokenClaims } from "./join-token.ts";

const encode = (payload: unknown) => `${Buffer.from(JSON.stringify(payload)).toString("base64url")}.c2lnbmF0dXJl`;

describe("readTokenClaims", () => {
  it("reads the identity and expiry a token allows (the signature is the control plane's business)", () => {
    expect(readTokenClaims(encode({ v: 1, td: "cluster.local", ns: "default", sa: "frontend", exp: 1_800_000_000 }))).toEqual({
      trustDomain: "cluster.local",
      namespace: "default",
      serviceAccount: "frontend",
      expiresAt: new Date(1_800_000_000_000),
    });
  });

  it.each(["", "abc", encode({ v: 1, td: "cluster.local" }), `${Buffer.from("not json").toString("base64url")}.x`])("refuses %j, saying how to get a token", (token) => {
    expect(() => readTokenClaims(token)).toThrow("TRELLIS_JOIN_TOKEN is not a Trellis join token");
  });
});

describe("buildSpiffeId", () => {
  it("names the workload's service account in its namespace and trust domain", () => {
    expect(buildSpiffeId({ trustDomain: "cluster.local", namespace: "shop", serviceAccount: "payment-service" })).toBe("spiffe://cluster.local/ns/shop/sa/payment-service");
  });
});
