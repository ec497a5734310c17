// Starts the control plane in-process (main.ts and tests): registry and policies restored from Postgres, push loop
// wired to registry and policy changes, one sniffing listener serving REST and the sidecar config stream.
import type { AddressInfo } from "node:net";
import type { Database } from "@trellis/db";
import { listen } from "@trellis/runtime";
import type { CaSettings } from "./ca/mesh-ca.ts";
import { startMeshCa } from "./ca/start-mesh-ca.ts";
import { loadPolicyState } from "./policies/policy-state.ts";
import { createPolicyService } from "./policies/policy-service.ts";
import { createPolicyRoutes } from "./policies/routes.ts";
import { createPusher } from "./push.ts";
import { createRegistry } from "./registry.ts";
import { createRestHandler } from "./rest.ts";
import { createSniffingServer } from "./server.ts";
import { handleConfigStream } from "./stream.ts";

export type ControlPlane = { port: number; stop: () => Promise<void> };

export type Logger = Pick<Console, "info" | "warn" | "error">;

export type ControlPlaneOptions = {
  db: Database;
  port: number;
  host?: string;
  log?: Logger;
  /** The mesh CA's root, trust domain, leaf TTL and join secret; without it the CA routes answer 503. */
  ca?: CaSettings;
  /** How long a disconnected workload stays an endpoint before it is removed (TRELLIS_DISCONNECT_GRACE); 0: at once. */
  disconnectGraceMs?: number;
};

export async function startControlPlane({ db, port, host = "127.0.0.1", log = console, ca, disconnectGraceMs }: ControlPlaneOptions): Promise<ControlPlane> {
  const registry = createRegistry({ db, log, disconnectGraceMs });
  // First, so that a bad root (a key others can read) stops the start before anything else is running.
  const meshCa = await startMeshCa({ settings: ca, db, registry, log });
  const { generation, previouslyConnected } = await registry.start();
  // Before the first push: snapshots are built from the policies stored when the previous run ended.
  const policyState = await loadPolicyState(db);
  const pusher = createPusher({ registry, policies: policyState.policies, initialGeneration: generation, awaitReconnect: previouslyConnected, log });
  registry.onChange(pusher.schedule);

  const policyService = createPolicyService({ db, registry, pusher, state: policyState });
  const rest = createRestHandler({ db, log, fallback: createPolicyRoutes({ db, service: policyService }) });

  const server = createSniffingServer({
    onRequest: (req, res) => {
      if (!meshCa.handle(req, res)) rest(req, res);
    },
    onStream: (stream, headers) => handleConfigStream(stream, headers, { registry, log }),
  });
  await listen(server.server, { port, host, what: "control plane", envVar: "TRELLIS_CONTROL_PLANE_PORT" });

  return {
    port: (server.server.address() as AddressInfo).port,
    stop: async () => {
      pusher.stop();
      registry.beginShutdown();
      await server.close();
      await registry.flush();
    },
  };
}
