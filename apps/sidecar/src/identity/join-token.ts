// What a join token says about the identity it allows, read without checking its signature (only the control
// plane holds the secret): the sidecar needs the trust domain to name itself in its CSR, and the expiry to warn
// before it can no longer renew.
import { AppError } from "@trellis/runtime";

export type TokenClaims = { trustDomain: string; namespace: string; serviceAccount: string; expiresAt: Date };

export function readTokenClaims(token: string): TokenClaims {
  const [body = ""] = token.trim().split(".");
  let payload: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null) payload = parsed as Record<string, unknown>;
  } catch {
    payload = null;
  }
  const { td, ns, sa, exp } = payload ?? {};
  if (typeof td !== "string" || typeof ns !== "string" || typeof sa !== "string" || typeof exp !== "number" || !token.includes(".")) {
    throw new AppError(
      "CONFIG",
      "TRELLIS_JOIN_TOKEN is not a Trellis join token (<payload>.<signature>); mint one with POST /v1/join-tokens on the control plane, or unset it to run without a mesh identity",
    );
  }
  return { trustDomain: td, namespace: ns, serviceAccount: sa, expiresAt: new Date(exp * 1000) };
}

export function buildSpiffeId({ trustDomain, namespace, serviceAccount }: Omit<TokenClaims, "expiresAt">): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
