// `trellis get services|sidecars`: what the control plane's registry knows, as a table or JSON.
import type { Sidecar } from "@trellis/db";
import { AppError } from "@trellis/runtime";
import { env } from "../env.ts";
import { printTable } from "../format.ts";

/** GET /v1/sidecars rows: findSidecars' fields (dates arrive as strings and are not shown here). */
type SidecarRow = Omit<Sidecar, "registeredAt" | "lastSeenAt">;

type ServiceRow = { name: string; namespace: string; versions: string[]; instances: number; endpoints: string[] };

export type GetOptions = { output: "table" | "json" };

const resources = ["services", "sidecars"] as const;
export type Resource = (typeof resources)[number];

export function parseResource(value: string): Resource {
  const match = resources.find((r) => r === value || `${r.replace(/s$/, "")}` === value);
  if (!match) throw new AppError("BAD_REQUEST", `unknown resource "${value}"; expected one of: ${resources.join(", ")}`);
  return match;
}

export async function runGet(resource: Resource, { output }: GetOptions): Promise<void> {
  if (resource === "sidecars") {
    const rows = await fetchJson<SidecarRow[]>("/v1/sidecars");
    if (output === "json") return printJson(rows);
    return printTable(
      ["SIDECAR", "SERVICE", "VERSION", "MODE", "INBOUND", "ADMIN", "CONFIG", "ACKED", "CONNECTED"],
      rows.map((r) => [r.id, r.service, r.version, r.mode, r.inboundUrl, r.adminUrl, r.configVersion ?? "-", r.acked ? "yes" : "no", r.connected ? "yes" : "no"]),
    );
  }
  const rows = await fetchJson<ServiceRow[]>("/v1/services");
  if (output === "json") return printJson(rows);
  return printTable(
    ["SERVICE", "NAMESPACE", "VERSIONS", "INSTANCES", "ENDPOINTS"],
    rows.map((r) => [r.name, r.namespace, r.versions.join(","), r.instances, r.endpoints.join(",")]),
  );
}

async function fetchJson<T>(path: string): Promise<T> {
  const url = `${env.TRELLIS_CONTROL_PLANE_URL}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AppError("UNAVAILABLE", `cannot reach the control plane at ${env.TRELLIS_CONTROL_PLANE_URL} (${reason}); is \`trellis up\` running? Set TRELLIS_CONTROL_PLANE_URL to point elsewhere`);
  }
  if (!response.ok) throw new AppError("UNAVAILABLE", `the control plane answered ${response.status} for ${path}: ${await response.text()}`);
  return (await response.json()) as T;
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
