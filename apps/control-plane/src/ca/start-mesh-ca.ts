// Wires the mesh CA into a control plane: load or create the root, log where it came from, and give back the
// handler for the CA's HTTP routes. Without settings (tests that do not need identities) those routes answer 503.
import type { Database } from "@trellis/db";
import type { Registry } from "../registry.ts";
import { createExpiryRecorder } from "./cert-expiry.ts";
import { createCaHandler, type CaRequestHandler } from "./http.ts";
import { createMeshCa, type CaSettings, type MeshCa } from "./mesh-ca.ts";

export type MeshCaService = { ca: MeshCa | null; handle: CaRequestHandler };

export async function startMeshCa({
  settings,
  db,
  registry,
  log,
}: {
  settings: CaSettings | undefined;
  db: Database;
  registry: Registry;
  log: Pick<Console, "info" | "warn" | "error">;
}): Promise<MeshCaService> {
  if (settings === undefined) return { ca: null, handle: createCaHandler({ ca: null, expiry: null, log }) };
  const ca = await createMeshCa(settings);
  log.info(`control-plane: mesh CA for ${settings.trustDomain}: root ${ca.root.origin}, fingerprint ${ca.root.fingerprint.slice(0, 16)}…, leaves valid ${Math.round(settings.certTtlMs / 1000)} s`);
  if (!ca.acceptsTokens) log.warn("control-plane: no TRELLIS_JOIN_SECRET: the mesh CA will not issue certificates (sidecars without a join token still work)");
  const expiry = createExpiryRecorder({ db, registry, log });
  return { ca, handle: createCaHandler({ ca, expiry, log }) };
}
