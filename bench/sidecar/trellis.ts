// The Trellis side of the sidecar benchmark: the built sidecar (apps/sidecar/dist) as two real processes — the
// caller's, whose outbound listener wrk calls, and the app's — joined to a real control plane (bench/control-plane's
// environment: built, on a fresh Postgres) with join tokens, mesh-wide STRICT mTLS applied, telemetry exported to a
// loopback OTLP sink.
import { spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SIDECAR_NODE_FLAGS } from "@trellis/runtime";
import { repoRoot, type BenchEnvironment } from "../control-plane/environment.ts";
import { BODY_PATH } from "./nginx.ts";
import { distinctFreePorts, startChild, waitUntil, type Child } from "./processes.ts";

const sidecarDir = join(repoRoot, "apps/sidecar");

export const STRICT_MTLS_YAML = `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
`;

export function buildSidecar(log: (line: string) => void): void {
  log("building apps/sidecar (esbuild)…");
  const build = spawnSync(process.execPath, ["../../scripts/build-node-app.mjs"], { cwd: sidecarDir, stdio: "inherit" });
  if (build.status !== 0) throw new Error("building the sidecar failed (output above)");
}

/** Accepts OTLP/HTTP exports and throws them away, counting what arrived (telemetry is on, and goes somewhere). */
export async function startOtlpSink(): Promise<{ url: string; received: () => { requests: number; bytes: number; byPath: Record<string, number> }; close: () => Promise<void> }> {
  let requests = 0;
  let bytes = 0;
  const byPath: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      requests += 1;
      const path = req.url ?? "/";
      byPath[path] = (byPath[path] ?? 0) + 1;
      res.writeHead(200, { "content-type": "application/x-protobuf" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => ({ requests, bytes, byPath: { ...byPath } }),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function applyYaml(env: BenchEnvironment, yaml: string): Promise<void> {
  const response = await fetch(`${env.url}/v1/policies/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ yaml, author: "bench sidecar", wait: true }),
  });
  if (!response.ok) throw new Error(`applying policies failed (HTTP ${response.status}): ${await response.text()}`);
}

async function joinToken(env: BenchEnvironment, service: string): Promise<string> {
  const response = await fetch(`${env.url}/v1/join-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.joinSecret}` },
    body: JSON.stringify({ namespace: "default", service }),
  });
  const body = (await response.json()) as { token?: string; error?: string };
  if (!response.ok || body.token === undefined) throw new Error(`the control plane refused a join token for ${service} (HTTP ${response.status}): ${body.error ?? ""}`);
  return body.token;
}

export type TrellisPair = {
  /** The caller sidecar's outbound listener for bench-app: what wrk calls. */
  port: number;
  client: Child;
  server: Child;
  /** Whether the hop refused a plaintext request once STRICT was in force (the proof it is mTLS). */
  hopRefusesPlaintext: boolean;
  hopCheck: string;
  adminPorts: { client: number; server: number };
};

type ConfigDump = { version: number | null; snapshot: { clusters: Record<string, { endpoints: unknown[] }> } | null };

/**
 * Two sidecars as real processes (`node --single-threaded-gc apps/sidecar/dist/main.js`, as the demo launcher starts them), each pinned to its core: the caller's
 * ("bench-client", outbound listener for bench-app) and the app's ("bench-app", inbound → the app).
 * TRELLIS_BENCH_SIDECAR_NODE_FLAGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
export async function startTrellisPair(options: { env: BenchEnvironment; dir: string; appPort: number; otlpUrl: string; cpus: [number, number] }): Promise<TrellisPair> {
  const { env, dir, appPort, otlpUrl, cpus } = options;
  await applyYaml(env, STRICT_MTLS_YAML);
  const nodeFlags = (process.env.TRELLIS_BENCH_SIDECAR_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const [outboundPort, clientInbound, clientAdmin, serverInbound, serverAdmin] = await distinctFreePorts(5);
  const common = { TRELLIS_CONTROL_PLANE_URL: env.url, TRELLIS_OTLP_ENDPOINT: otlpUrl, TRELLIS_NAMESPACE: "default", TRELLIS_APP_PORT: String(appPort) };
  const start = (name: string, cpu: number, vars: Record<string, string>) =>
    startChild(`sidecar ${name}`, process.execPath, [...SIDECAR_NODE_FLAGS, ...nodeFlags, join(sidecarDir, "dist/main.js")], { cpu, env: { ...common, ...vars }, logFile: join(dir, `sidecar-${name}.log`) });
  const tokens = { server: await joinToken(env, "bench-app"), client: await joinToken(env, "bench-client") };
  const server = start("bench-app", cpus[1], {
    TRELLIS_SERVICE: "bench-app",
    TRELLIS_WORKLOAD: "bench-app-0",
    TRELLIS_INBOUND_PORT: String(serverInbound),
    TRELLIS_ADMIN_PORT: String(serverAdmin),
    TRELLIS_JOIN_TOKEN: tokens.server,
  });
  const client = start("bench-client", cpus[0], {
    TRELLIS_SERVICE: "bench-client",
    TRELLIS_WORKLOAD: "bench-client-0",
    TRELLIS_INBOUND_PORT: String(clientInbound),
    TRELLIS_ADMIN_PORT: String(clientAdmin),
    TRELLIS_UPSTREAMS: `bench-app=${outboundPort}`,
    TRELLIS_JOIN_TOKEN: tokens.client,
  });
  try {
    return await checkPair({ outboundPort, serverInbound, adminPorts: { client: clientAdmin, server: serverAdmin }, client, server });
  } catch (error) {
    await Promise.all([client.stop(), server.stop()]); // not yet in the caller's cleanups
    throw error;
  }
}

/** Waits until both sidecars are ready and a request goes through, then checks the hop refuses plaintext. */
async function checkPair(pair: { outboundPort: number; serverInbound: number; adminPorts: { client: number; server: number }; client: Child; server: Child }): Promise<TrellisPair> {
  const { outboundPort, serverInbound, client, server } = pair;
  const { client: clientAdmin, server: serverAdmin } = pair.adminPorts;
  const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/ready`)).ok;
  await waitUntil("both sidecars to be ready (config and certificate)", async () => (await ready(serverAdmin)) && (await ready(clientAdmin)), 30_000);
  await waitUntil(
    "the caller sidecar to see the bench-app endpoint",
    async () => {
      const dump = (await (await fetch(`http://127.0.0.1:${clientAdmin}/config_dump`)).json()) as ConfigDump;
      return (dump.snapshot?.clusters["bench-app"]?.endpoints.length ?? 0) > 0;
    },
    30_000,
  );
  await waitUntil("a request through the pair", async () => (await fetch(`http://127.0.0.1:${outboundPort}${BODY_PATH}`)).ok, 15_000);
  const plaintext = await fetch(`http://127.0.0.1:${serverInbound}${BODY_PATH}`).then(
    (response) => ({ refused: response.status !== 200, how: `HTTP ${response.status}` }),
    (error: unknown) => ({ refused: true, how: String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message) }),
  );
  return {
    port: outboundPort,
    client,
    server,
    hopRefusesPlaintext: plaintext.refused,
    hopCheck: `plaintext GET to the app sidecar's inbound port with STRICT in force: ${plaintext.refused ? "refused" : "answered"} (${plaintext.how})`,
    adminPorts: { client: clientAdmin, server: serverAdmin },
  };
}
