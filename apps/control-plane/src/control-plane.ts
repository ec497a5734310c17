// Starts the control plane in-process (main.ts and tests): registry restored from Postgres, push loop wired to
// registry changes, one sniffing listener serving REST and the sidecar config stream.
import type { AddressInfo } from "node:net";
import type { Database } from "@trellis/db";
import { listen } from "@trellis/runtime";
import { createPusher } from "./push.ts";
import { createRegistry } from "./registry.ts";
import { createRestHandler } from "./rest.ts";
import { createSniffingServer } from "./server.ts";
import { handleConfigStream } from "./stream.ts";

export type ControlPlane = { port: number; stop: () => Promise<void> };

export type Logger = Pick<Console, "info" | "warn" | "error">;

export type ControlPlaneOptions = { db: Database; port: number; host?: string; log?: Logger };

export async function startControlPlane({ db, port, host = "127.0.0.1", log = console }: ControlPlaneOptions): Promise<ControlPlane> {
  const registry = createRegistry({ db, log });
  const { generation, previouslyConnected } = await registry.start();
  const pusher = createPusher({ registry, initialGeneration: generation, awaitReconnect: previouslyConnected, log });
  registry.onChange(pusher.schedule);

  const server = createSniffingServer({
    onRequest: createRestHandler({ db, log }),
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
