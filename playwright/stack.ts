// Starts the real Trellis stack for the e2e tests the way a user does (`trellis up`), on an embedded Postgres
// in a fresh directory (DATABASE_URL removed on purpose: this proves the embedded path) and on ports shifted
// away from the defaults so a developer's running `npm start` does not collide with the tests.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ports = { web: 3310, ingest: 14318, ingestGrpc: 14317, controlPlane: 15910, gateway: 18080, demoBase: 19100, adminBase: 15100 };
export const webUrl = `http://localhost:${ports.web}`;
export const controlPlaneUrl = `http://127.0.0.1:${ports.controlPlane}`;

export type Stack = { child: ChildProcess; output: () => string; home: string };

export function stackEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRELLIS_HOME: home,
    TRELLIS_WEB_PORT: String(ports.web),
    TRELLIS_INGEST_PORT: String(ports.ingest),
    TRELLIS_INGEST_GRPC_PORT: String(ports.ingestGrpc),
    TRELLIS_CONTROL_PLANE_PORT: String(ports.controlPlane),
    TRELLIS_CONTROL_PLANE_URL: controlPlaneUrl,
    TRELLIS_GATEWAY_PORT: String(ports.gateway),
    TRELLIS_DEMO_PORT_BASE: String(ports.demoBase),
    TRELLIS_SIDECAR_ADMIN_BASE: String(ports.adminBase),
    TRELLIS_DEMO_RPS: "20",
    NEXT_TELEMETRY_DISABLED: "1",
    TURBO_TELEMETRY_DISABLED: "1",
  };
  delete env.DATABASE_URL;
  return env;
}

function makeHome(): string {
  const home = mkdtempSync(join(tmpdir(), "trellis-e2e-"));
  chmodSync(home, 0o755); // as root, the embedded Postgres runs as `postgres`, which must reach its data directory
  return home;
}

export async function startStack({ build = false, home = makeHome() } = {}): Promise<Stack> {
  const cli = resolve(import.meta.dirname, "../apps/cli/bin/trellis.mjs");
  const child = spawn(process.execPath, [cli, "up", ...(build ? [] : ["--no-build"])], {
    env: stackEnv(home),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`trellis up was not ready within 240 s:\n${output}`)), 240_000);
    const check = () => {
      if (output.includes("Trellis is up")) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`trellis up exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { child, output: () => output, home };
}

export async function stopStack(stack: Stack): Promise<number | null> {
  if (stack.child.exitCode !== null) return stack.child.exitCode;
  const exited = new Promise<number | null>((resolve) => stack.child.once("exit", (code) => resolve(code)));
  stack.child.kill("SIGTERM");
  return exited;
}
