// `trellis get services|sidecars|policies`: what the control plane knows, as a table, JSON, or (policies) Istio YAML.
import type { Sidecar } from "@trellis/db";
import { AppError } from "@trellis/runtime";
import { stringify as stringifyYaml } from "yaml";
import { requestJson, requestText } from "../control-plane-client.ts";
import { printTable } from "../format.ts";

/** GET /v1/sidecars rows: findSidecars' fields (dates arrive as ISO strings). */
export type SidecarRow = Omit<Sidecar, "registeredAt" | "lastSeenAt" | "certExpiry"> & { registeredAt: string; lastSeenAt: string; certExpiry: string | null };

type ServiceRow = { name: string; namespace: string; versions: string[]; instances: number; endpoints: string[] };

/** GET /v1/policies: the current policies and the mesh revision they make up. */
export type PolicyList = {
  revision: number;
  policies: Array<{ kind: string; namespace: string; name: string; version: number; revision: number; author: string; updatedAt: string }>;
};

export const outputFormats = ["table", "json", "yaml"] as const;
export type OutputFormat = (typeof outputFormats)[number];

export type GetOptions = { output: OutputFormat };

const resources = ["services", "sidecars", "policies"] as const;
export type Resource = (typeof resources)[number];

export function parseResource(value: string): Resource {
  const lower = value.toLowerCase();
  const match = resources.find((r) => r === lower || r.replace(/(ies|s)$/, (s) => (s === "ies" ? "y" : "")) === lower);
  if (!match) throw new AppError("BAD_REQUEST", `unknown resource "${value}"; expected one of: ${resources.join(", ")}`);
  return match;
}

export async function runGet(resource: Resource, { output }: GetOptions): Promise<void> {
  if (resource === "policies") return getPolicies(output);
  if (resource === "sidecars") {
    const rows = await requestJson<SidecarRow[]>("/v1/sidecars");
    if (output !== "table") return printStructured(rows, output);
    return printTable(
      ["SIDECAR", "SERVICE", "VERSION", "MODE", "INBOUND", "ADMIN", "CONFIG", "ACKED", "CONNECTED", "CERT EXPIRES"],
      rows.map((r) => [
        r.id,
        r.service,
        r.version,
        r.mode,
        r.inboundUrl,
        r.adminUrl,
        r.configVersion ?? "-",
        r.acked ? "yes" : r.lastError ? "NACK" : "no",
        r.connected ? "yes" : "no",
        r.certExpiry ?? "-",
      ]),
    );
  }
  const rows = await requestJson<ServiceRow[]>("/v1/services");
  if (output !== "table") return printStructured(rows, output);
  return printTable(
    ["SERVICE", "NAMESPACE", "VERSIONS", "INSTANCES", "ENDPOINTS"],
    rows.map((r) => [r.name, r.namespace, r.versions.join(","), r.instances, r.endpoints.join(",")]),
  );
}

function printStructured(value: unknown, output: "json" | "yaml"): void {
  if (output === "json") return printJson(value);
  process.stdout.write(stringifyYaml(value));
}

async function getPolicies(output: OutputFormat): Promise<void> {
  if (output === "yaml") {
    process.stdout.write(await requestText("/v1/export?format=istio"));
    return;
  }
  const list = await requestJson<PolicyList>("/v1/policies");
  if (output === "json") return printJson(list);
  console.log(`mesh revision ${list.revision}`);
  if (list.policies.length === 0) return console.log("no policies; apply some with trellis apply -f FILE");
  printTable(
    ["KIND", "NAMESPACE", "NAME", "VERSION", "REVISION", "AUTHOR", "UPDATED"],
    list.policies.map((p) => [p.kind, p.namespace, p.name, p.version, p.revision, p.author, p.updatedAt]),
  );
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
