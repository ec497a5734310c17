// The sidecar as a real process (node --import tsx src/main.ts, configured only through TRELLIS_* env): it
// registers, proxies, and on SIGTERM finishes the request in flight, flushes its spans and exits 0.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { findFreePort } from "@trellis/db";
import { createTestDatabase, startProcess, waitForHttp, type TestDatabase } from "@trellis/testkit";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

let testDb: TestDatabase;
let controlPlane: ControlPlane;
let app: http.Server;
let appPort: number;
let otlp: http.Server;
let otlpPort: number;
const exports: string[] = [];
let requestArrived: () => void = () => {};

beforeAll(async () => {
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet });
  // The app answers a moment after the request arrives, so SIGTERM lands while it is in flight.
  app = http.createServer((req, res) => {
    requestArrived();
    setTimeout(() => res.end(`slow answer to ${req.url ?? ""}`), 300);
  });
  otlp = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      exports.push(req.url ?? "");
      res.end();
    });
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => otlp.listen(0, "127.0.0.1", resolve));
  appPort = (app.address() as AddressInfo).port;
  otlpPort = (otlp.address() as AddressInfo).port;
});

afterAll(async () => {
  app?.closeAllConnections();
  app?.close();
  otlp?.closeAllConnections();
  otlp?.close();
  await controlPlane?.stop();
  await testDb?.drop();
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("sidecar process", () => {
  it("drains the request in flight on SIGTERM, flushes spans and exits 0", async () => {
    const [inboundPort, adminPort] = [await findFreePort(), await findFreePort()];
    const sidecar = startProcess(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: appDir,
      env: {
        TRELLIS_SERVICE: "slow-service",
        TRELLIS_APP_PORT: String(appPort),
        TRELLIS_INBOUND_PORT: String(inboundPort),
        TRELLIS_ADMIN_PORT: String(adminPort),
        TRELLIS_UPSTREAMS: "",
        TRELLIS_CONTROL_PLANE_URL: `http://127.0.0.1:${controlPlane.port}`,
        TRELLIS_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
      },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${adminPort}/ready`, { timeoutMs: 30_000 });
      const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
      const inFlight = get(inboundPort, "/slow");
      await arrived;
      sidecar.child.kill("SIGTERM");
      expect(await inFlight).toEqual({ status: 200, body: "slow answer to /slow" });
      expect(await sidecar.waitForExit()).toBe(0);
      expect(exports).toContain("/v1/traces");
      expect(sidecar.output()).toContain(`sidecar slow-service-v1-${adminPort}: inbound 127.0.0.1:${inboundPort}`);
    } finally {
      await sidecar.stop();
    }
  });

  it("refuses to start with a clear message when the environment is incomplete", async () => {
    const sidecar = startProcess(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: appDir,
      env: { TRELLIS_SERVICE: "broken", TRELLIS_MODE: "", TRELLIS_APP_PORT: "", TRELLIS_INBOUND_PORT: "15999" },
    });
    expect(await sidecar.waitForExit()).toBe(1);
    expect(sidecar.output()).toContain("sidecar: sidecar mode needs TRELLIS_APP_PORT");
  });
});
