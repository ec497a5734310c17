// The demo's Istio policies (the seed's canary, retries, circuit breaker and mesh-wide mTLS) are applied on the first
// start only — when the policy store is empty — so a weight an SRE changed later survives the next `trellis up`.
import { readFileSync } from "node:fs";
import { AppError } from "@trellis/runtime";

export type SeedResult = { applied: true; revision: number; policies: number } | { applied: false; revision: number; policies: number };

export async function applySeedPoliciesOnce({ controlPlaneUrl, file }: { controlPlaneUrl: string; file: string }): Promise<SeedResult> {
  const current = (await call(controlPlaneUrl, "GET", "/v1/policies")) as { revision: number; policies: unknown[] };
  if (current.policies.length > 0) return { applied: false, revision: current.revision, policies: current.policies.length };
  const result = (await call(controlPlaneUrl, "POST", "/v1/policies/apply", {
    yaml: readFileSync(file, "utf8"),
    author: "trellis-demo",
    expectVersion: current.revision,
  })) as { revision: number; policies: unknown[] };
  return { applied: true, revision: result.revision, policies: result.policies.length };
}

async function call(controlPlaneUrl: string, method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(path, controlPlaneUrl), {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AppError("UNAVAILABLE", `cannot reach the control plane at ${controlPlaneUrl} to apply the demo's policies (${reason})`, { cause: error });
  }
  const answer = (await response.json().catch(() => ({}))) as { error?: unknown; errors?: unknown };
  if (!response.ok) {
    const details = Array.isArray(answer.errors) ? `\n  ${answer.errors.join("\n  ")}` : "";
    throw new AppError("UNAVAILABLE", `the control plane refused the demo's policies (HTTP ${response.status}): ${String(answer.error ?? "")}${details}`);
  }
  return answer;
}
