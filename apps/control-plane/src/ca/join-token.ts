// Join tokens: how a sidecar proves to the mesh CA that it may take an identity. A token names the identity it
// allows (trust domain, namespace, service account) and when it expires, signed with the control plane's HMAC
// secret: base64url(JSON payload) "." base64url(HMAC-SHA256(secret, first part)). Pure; no I/O.
import { createHmac, timingSafeEqual } from "node:crypto";
import { buildSpiffeId, NAME_PATTERN, TRUST_DOMAIN_PATTERN, type WorkloadIdentity } from "./spiffe.ts";

export type JoinTokenClaims = WorkloadIdentity & { expiresAt: Date };

/** The payload as it travels; short keys keep env vars and logs readable. */
type Payload = { v: 1; td: string; ns: string; sa: string; exp: number };

export type VerifyResult = { ok: true; claims: JoinTokenClaims; spiffeId: string } | { ok: false; reason: string };

export function signJoinToken({ secret, identity, ttlMs, now = new Date() }: { secret: string; identity: WorkloadIdentity; ttlMs: number; now?: Date }): {
  token: string;
  expiresAt: Date;
} {
  const exp = Math.floor((now.getTime() + ttlMs) / 1000);
  const payload: Payload = { v: 1, td: identity.trustDomain, ns: identity.namespace, sa: identity.serviceAccount, exp };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return { token: `${body}.${sign(secret, body)}`, expiresAt: new Date(exp * 1000) };
}

export function verifyJoinToken({ token, secret, now = new Date() }: { token: string; secret: string; now?: Date }): VerifyResult {
  const parts = token.trim().split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { ok: false, reason: "the join token is malformed: expected <payload>.<signature>" };
  const [body, signature] = parts as [string, string];
  const expected = Buffer.from(sign(secret, body), "base64url");
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "the join token's signature does not match this control plane's join secret (minted for another mesh, or altered)" };
  }
  const payload = decodePayload(body);
  if (payload === null) return { ok: false, reason: "the join token's payload is not a valid token payload" };
  const claims: JoinTokenClaims = { trustDomain: payload.td, namespace: payload.ns, serviceAccount: payload.sa, expiresAt: new Date(payload.exp * 1000) };
  if (claims.expiresAt.getTime() <= now.getTime()) {
    return { ok: false, reason: `the join token expired at ${claims.expiresAt.toISOString()}; mint a new one` };
  }
  return { ok: true, claims, spiffeId: buildSpiffeId(claims) };
}

function sign(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("base64url");
}

function decodePayload(body: string): Payload | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { v, td, ns, sa, exp } = value as Record<string, unknown>;
  if (v !== 1 || typeof td !== "string" || typeof ns !== "string" || typeof sa !== "string" || typeof exp !== "number") return null;
  if (!TRUST_DOMAIN_PATTERN.test(td) || !NAME_PATTERN.test(ns) || !NAME_PATTERN.test(sa) || !Number.isFinite(exp)) return null;
  return { v, td, ns, sa, exp };
}
