// The walking skeleton end to end, as a user meets it: `trellis up` on an embedded Postgres, demo traffic through
// real sidecars, OTLP into ingest, Postgres, the tRPC API, and the dashboard drawing services and edges.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { expect, test } from "@playwright/test";
import { controlPlaneUrl, ports, stackEnv, startStack, stopStack, webUrl, type Stack } from "../../stack.ts";

const SERVICES = ["gateway", "frontend", "catalog-service", "order-service", "payment-service", "inventory-service"];

test.describe.configure({ mode: "serial" });

let stack: Stack;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  stack = await startStack();
});

test.afterAll(async () => {
  if (!stack) return;
  await stopStack(stack);
  rmSync(stack.home, { recursive: true, force: true });
});

test("[DASHBOARD]: shows every demo service with live traffic and the edges between them", async ({ page }) => {
  await page.goto(webUrl);
  for (const service of SERVICES) {
    const row = page.getByTestId(`service-row-${service}`);
    await expect(row).toBeVisible();
    await expect
      .poll(async () => Number.parseFloat((await row.getByTestId("service-rps").innerText()).replace(/[^0-9.]/g, "")), {
        message: `${service} should show a non-zero request rate`,
        timeout: 90_000,
      })
      .toBeGreaterThan(0);
  }
  await expect(page.getByTestId("service-row-order-service")).toContainText("v1");
  await expect(page.getByTestId("service-row-order-service")).toContainText("v2");

  const graph = page.getByTestId("service-graph");
  await expect(graph).toBeVisible();
  await expect(graph.locator('[data-testid^="graph-node-order-service"]')).toHaveCount(2);
  for (const [from, to] of [
    ["gateway", "frontend"],
    ["frontend", "catalog-service"],
    ["frontend", "order-service"],
    ["order-service", "payment-service"],
    ["order-service", "inventory-service"],
  ]) {
    await expect(graph.locator(`[data-testid^="graph-edge-${from}"][data-testid*="->${to}"]`).first()).toBeAttached();
  }
});

test("[HEALTH]: /api/health reports every component up", async ({ request }) => {
  const response = await request.get(`${webUrl}/api/health`);
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.components).toMatchObject({ database: "up", ingest: "up", controlPlane: "up" });
});

test("[CLI]: trellis get sidecars lists every demo sidecar on the acknowledged config", async () => {
  const cli = resolve(import.meta.dirname, "../../../apps/cli/bin/trellis.mjs");
  const sidecars = JSON.parse(execFileSync(process.execPath, [cli, "get", "sidecars", "-o", "json"], { env: stackEnv(stack.home), encoding: "utf8" })) as Array<{
    service: string; version: string; adminUrl: string; inboundUrl: string; configVersion: number | null; acked: boolean; connected: boolean;
  }>;
  const connected = sidecars.filter((s) => s.connected);
  expect(connected.map((s) => `${s.service}@${s.version}`).sort()).toEqual(
    ["catalog-service@v1", "frontend@v1", "gateway@v1", "inventory-service@v1", "order-service@v1", "order-service@v2", "payment-service@v1"].sort(),
  );
  for (const sidecar of connected) {
    expect(sidecar.acked, `${sidecar.service}@${sidecar.version} acked`).toBe(true);
    expect(typeof sidecar.configVersion).toBe("number");
    expect(sidecar.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }
  const services = JSON.parse(execFileSync(process.execPath, [cli, "get", "services", "-o", "json"], { env: stackEnv(stack.home), encoding: "utf8" })) as Array<{ name: string }>;
  expect(services.map((s) => s.name).sort()).toEqual([...SERVICES].sort());
  expect(controlPlaneUrl).toContain(String(ports.controlPlane));
});

test("[POLICIES]: the seed policies are applied, every sidecar runs them, and the canary gets about 10%", async ({ page }) => {
  const cli = resolve(import.meta.dirname, "../../../apps/cli/bin/trellis.mjs");
  const run = (...args: string[]) => execFileSync(process.execPath, [cli, ...args], { env: stackEnv(stack.home), encoding: "utf8" });
  const policies = JSON.parse(run("get", "policies", "-o", "json")) as { revision: number; policies: Array<{ kind: string; name: string }> };
  expect(policies.policies.map((p) => `${p.kind}/${p.name}`).sort()).toEqual([
    "DestinationRule/order-service",
    "DestinationRule/payment-service",
    "PeerAuthentication/default",
    "VirtualService/order-service",
    "VirtualService/payment-service",
  ]);
  // Every sidecar ACKed the current config and holds a valid certificate from the mesh CA.
  expect(run("check")).toContain("in sync");

  await page.goto(webUrl);
  const orderRow = page.getByTestId("service-row-order-service");
  await expect
    .poll(async () => Number(/v2\s+(\d+)%/.exec(await orderRow.innerText())?.[1] ?? "-1"), { message: "order-service v2 share (%)", timeout: 60_000 })
    .toBeGreaterThanOrEqual(3);
  const share = Number(/v2\s+(\d+)%/.exec(await orderRow.innerText())?.[1]);
  expect(share).toBeLessThanOrEqual(20);
});

test("[CLI]: Ctrl-C stops everything, and a second up reuses the data", async () => {
  test.setTimeout(240_000);
  expect(await stopStack(stack)).toBe(0);
  for (const port of [ports.web, ports.ingest, ports.controlPlane, ports.gateway, ports.adminBase, ports.adminBase + 6, ports.demoBase + 1, ports.demoBase + 101]) {
    expect(await isPortFree(port), `port ${port} is free after stop (no orphan process)`).toBe(true);
  }
  stack = await startStack({ home: stack.home });
  expect(stack.output()).toMatch(/migrations\s+ready \(0 applied/);
  console.log(stack.output().split("\n").find((line) => line.startsWith("Trellis is up")));
});

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "0.0.0.0", () => server.close(() => resolve(true)));
  });
}
