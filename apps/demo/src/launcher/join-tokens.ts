// One join token per demo service, minted by the control plane's CA (POST /v1/join-tokens, authenticated with the
// join secret `trellis up` gives the launcher), so each sidecar can get the certificate for its own identity and
// for no other. Without a secret the demo runs without mesh identities, as before.
import { AppError } from "@trellis/runtime";

/** The demo runs for as long as `trellis up` does; its sidecars renew their certificates with this token. */
const DEMO_TOKEN_TTL = "8760h";

export async function requestJoinTokens({
  controlPlaneUrl,
  secret,
  namespace,
  services,
}: {
  controlPlaneUrl: string;
  secret: string;
  namespace: string;
  services: string[];
}): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const service of [...new Set(services)]) {
    const url = new URL("/v1/join-tokens", controlPlaneUrl);
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
        body: JSON.stringify({ namespace, service, ttl: DEMO_TOKEN_TTL }),
        signal: AbortSignal.timeout(5_000),
      });
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new AppError("UNAVAILABLE", `cannot reach the control plane at ${controlPlaneUrl} for join tokens (${reason}); start it first, or unset TRELLIS_JOIN_SECRET to run without mesh identities`, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { token?: unknown; error?: unknown };
    if (!response.ok || typeof body.token !== "string") {
      throw new AppError("UNAVAILABLE", `the control plane refused a join token for ${service} (HTTP ${response.status}): ${String(body.error ?? "no token in the answer")}`);
    }
    tokens[service] = body.token;
  }
  return tokens;
}
