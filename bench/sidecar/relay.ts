// Starts the Node byte-relay pair (node-relay.mjs): the floor under any Node proxy, measured beside the sidecars.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { distinctFreePorts, startChild, waitUntil, type Child } from "./processes.ts";
import { BODY_PATH } from "./nginx.ts";

const script = fileURLToPath(new URL("./node-relay.mjs", import.meta.url));

export type RelayPair = { port: number; client: Child; server: Child };

/** Needs the nginx pair's certificates in `${dir}/tls` (startNginxPair makes them). Pinned as the other pairs are. */
export async function startRelayPair(dir: string, appPort: number, cpus: [number, number]): Promise<RelayPair> {
  const [clientPort, serverPort] = await distinctFreePorts(2);
  const tlsDir = join(dir, "tls");
  const server = startChild("node relay server", process.execPath, [script, "server", String(serverPort), String(appPort), tlsDir], { cpu: cpus[1], logFile: join(dir, "relay-server.log") });
  const client = startChild("node relay client", process.execPath, [script, "client", String(clientPort), String(serverPort), tlsDir], { cpu: cpus[0], logFile: join(dir, "relay-client.log") });
  try {
    await waitUntil(`the node relay pair to answer ${BODY_PATH}`, async () => (await fetch(`http://127.0.0.1:${clientPort}${BODY_PATH}`)).ok, 10_000);
  } catch (error) {
    await Promise.all([client.stop(), server.stop()]);
    throw error;
  }
  return { port: clientPort, client, server };
}
