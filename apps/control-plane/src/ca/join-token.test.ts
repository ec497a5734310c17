import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signJoinToken, verifyJoinToken } from "./join-token.ts";

const secret = "s".repeat(32);
const identity = { trustDomain: "cluster.local", namespace: "default", serviceAccount: "frontend" };
const now = new Date("2026-11-24T10:00:00Z");

describe("join tokens", () => {
  it("verify when signed with the same secret, and name the identity they allow", () => {
    const { token, expiresAt } = signJoinToken({ secret, identity, ttlMs: 3_600_000, now });
    expect(expiresAt.toISOString()).toBe("2026-11-24T11:00:00.000Z");
    expect(token).toMatch(/^[\w-]+\.[\w-]+$/);
    const result = verifyJoinToken({ token, secret, now });
    expect(result).toEqual({ ok: true, spiffeId: "spiffe://cluster.local/ns/default/sa/frontend", claims: { ...identity, expiresAt } });
  });

  it("are refused once expired", () => {
    const { token } = signJoinToken({ secret, identity, ttlMs: 60_000, now });
    const result = verifyJoinToken({ token, secret, now: new Date(now.getTime() + 60_000) });
    expect(result).toEqual({ ok: false, reason: "the join token expired at 2026-11-24T10:01:00.000Z; mint a new one" });
  });

  it("are refused when signed with another secret", () => {
    const { token } = signJoinToken({ secret: "o".repeat(32), identity, ttlMs: 60_000, now });
    const result = verifyJoinToken({ token, secret, now });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain("signature does not match");
  });

  it("are refused when the payload is altered to claim another identity", () => {
    const { token } = signJoinToken({ secret, identity, ttlMs: 60_000, now });
    const [, signature] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ v: 1, td: "cluster.local", ns: "default", sa: "payment-service", exp: 9_999_999_999 })).toString("base64url");
    const result = verifyJoinToken({ token: `${forged}.${signature ?? ""}`, secret, now });
    expect(!result.ok && result.reason).toContain("signature does not match");
  });

  it("are refused when the signature is truncated or the token malformed", () => {
    const { token } = signJoinToken({ secret, identity, ttlMs: 60_000, now });
    expect(verifyJoinToken({ token: token.slice(0, -4), secret, now }).ok).toBe(false);
    expect(verifyJoinToken({ token: "not-a-token", secret, now })).toEqual({ ok: false, reason: "the join token is malformed: expected <payload>.<signature>" });
  });

  it("refuse a correctly signed payload that is not a token payload", () => {
    const body = Buffer.from(JSON.stringify({ v: 1, td: "cluster.local", ns: "Default!", sa: "x", exp: 9_999_999_999 })).toString("base64url");
    const signature = createHmac("sha256", secret).update(body).digest("base64url");
    expect(verifyJoinToken({ token: `${body}.${signature}`, secret, now })).toEqual({ ok: false, reason: "the join token's payload is not a valid token payload" });
  });
});
