// The demo's apps as real processes, without sidecars: each app's upstream URL points straight at the next app
// (through a small recording proxy, to see what each hop forwards). Also: failures surface as 502/503 JSON,
// the launcher's preflight errors, and children stopping when their parent is killed.
import { startProcess, type ManagedProcess } from "@trellis/testkit";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parentWatchImport } from "./parent-watch.ts";

const demoDir = fileURLToPath(new URL("..", import.meta.url));
const mainTs = fileURLToPath(new URL("./main.ts", import.meta.url));
const catalogScript = fileURLToPath(new URL("../services/catalog-service/server.py", import.meta.url));
const python = process.env.TRELLIS_PYTHON ?? "python3";
const nodeWithTs = ["--import", "tsx"];

const processes: ManagedProcess[] = [];
const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Starts a service on a port the OS picks and returns its base URL once it says it is listening. */
async function startService(name: string, env: Record<string, string> = {}): Promise<string> {
  const proc =
    name === "catalog-service"
      ? startProcess(python, ["-u", catalogScript], { env: { PORT: "0", ...env } })
      : startProcess(process.execPath, [...nodeWithTs, mainTs, "service", name], { cwd: demoDir, env: { PORT: "0", ...env } });
  processes.push(proc);
  const port = await waitForOutput(proc, /listening on 127\.0\.0\.1:(\d+)/);
  return `http://127.0.0.1:${port}`;
}

async function waitForOutput(proc: ManagedProcess, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  let exited = false;
  void proc.waitForExit().then(() => (exited = true));
  while (Date.now() < deadline) {
    const match = pattern.exec(proc.output());
    if (match) return match[1] ?? match[0];
    if (exited) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in the output (exited: ${exited}):\n${proc.output()}`);
}

type Recorded = { method: string; path: string; headers: IncomingHttpHeaders };

/** A proxy that records each request's headers, then passes it on unchanged: "what did this hop forward?" */
async function startRecorder(target: string): Promise<{ url: string; seen: Recorded[] }> {
  const seen: Recorded[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    const upstream = request(new URL(req.url ?? "/", target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

type Json = Record<string, unknown>;
async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Json };
}

const incomingTrace = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  tracestate: "trellis=demo",
  "x-request-id": "demo-int-request-1",
  b3: "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
};

describe("the demo shop without sidecars", () => {
  let frontend: string;
  let payment: string;
  let inventory: string;
  let catalog: string;
  const taps: Record<string, { url: string; seen: Recorded[] }> = {};

  beforeAll(async () => {
    const [catalogUrl, paymentUrl, inventoryUrl] = await Promise.all([
      startService("catalog-service"),
      startService("payment-service", { PAYMENT_FAILURE_RATE: "0" }),
      startService("inventory-service"),
    ]);
    catalog = catalogUrl;
    payment = paymentUrl;
    inventory = inventoryUrl;
    taps.catalog = await startRecorder(catalog);
    taps.payment = await startRecorder(payment);
    taps.inventory = await startRecorder(inventory);
    const order = await startService("order-service", { PAYMENT_URL: taps.payment.url, INVENTORY_URL: taps.inventory.url });
    taps.order = await startRecorder(order);
    frontend = await startService("frontend", { CATALOG_URL: taps.catalog.url, ORDER_URL: taps.order.url });
  });

  it("answers GET / on frontend with data from all five services, the catalog's from Python", async () => {
    const { status, body } = await getJson(`${frontend}/`, { headers: incomingTrace });
    expect(status).toBe(200);
    expect(body).toMatchObject({ service: "frontend", version: "v1", page: "home" });
    const catalog = body.catalog as Json;
    expect(catalog).toMatchObject({ service: "catalog-service", language: "python" });
    expect((catalog.products as unknown[]).length).toBeGreaterThan(0);
    const order = body.order as Json;
    expect(order).toMatchObject({ service: "order-service", version: "v1", status: "confirmed" });
    expect(order.orderId).toMatch(/^ord_[0-9a-f]{12}$/);
    expect(order.payment).toMatchObject({ service: "payment-service", status: "authorized", orderId: order.orderId, amountCents: order.totalCents });
    expect(order.inventory).toMatchObject({ service: "inventory-service", orderId: order.orderId });
  });

  it("forwards the incoming trace headers on every hop: frontend → catalog, order; order → inventory, payment", async () => {
    for (const tap of Object.values(taps)) tap.seen.length = 0;
    const { status } = await getJson(`${frontend}/`, { headers: incomingTrace });
    expect(status).toBe(200);
    for (const [name, tap] of Object.entries(taps)) {
      expect(tap.seen, `requests seen by ${name}`).toHaveLength(1);
      expect(tap.seen[0]?.headers, `headers forwarded to ${name}`).toMatchObject(incomingTrace);
    }
    expect(taps.catalog?.seen[0]).toMatchObject({ method: "GET", path: "/products" });
    expect(taps.order?.seen[0]).toMatchObject({ method: "POST", path: "/orders" });
  });

  it("runs order-service v2 as a visible canary: extra fields on the same contract", async () => {
    const v2 = await startService("order-service", { SERVICE_VERSION: "v2", PAYMENT_URL: payment, INVENTORY_URL: inventory });
    const items = [{ sku: "TRL-MUG-01", quantity: 2, unitPriceCents: 1200 }];
    const { status, body } = await getJson(`${v2}/orders`, { method: "POST", body: JSON.stringify({ items }) });
    expect(status).toBe(201);
    expect(body).toMatchObject({ service: "order-service", version: "v2", totalCents: 2400, estimatedDeliveryDays: 2, loyaltyPoints: 24 });
  });

  it("answers 502 with a JSON error when an upstream fails, and the caller passes it on", async () => {
    const failingPayment = await startService("payment-service", { PAYMENT_FAILURE_RATE: "1" });
    const order = await startService("order-service", { PAYMENT_URL: failingPayment, INVENTORY_URL: inventory });
    const items = [{ sku: "TRL-CAP-03", quantity: 1, unitPriceCents: 1800 }];
    const direct = await getJson(`${order}/orders`, { method: "POST", body: JSON.stringify({ items }) });
    expect(direct.status).toBe(502);
    expect(direct.body).toMatchObject({ service: "order-service", upstream: "payment-service", upstreamStatus: 503 });
    expect(direct.body.error).toMatch(/payment-service answered 503: payment processor unavailable/);

    const shop = await startService("frontend", { CATALOG_URL: taps.catalog?.url ?? "", ORDER_URL: order });
    const page = await getJson(`${shop}/`);
    expect(page.status).toBe(502);
    expect(page.body).toMatchObject({ service: "frontend", upstream: "order-service", upstreamStatus: 502 });
  });

  it("answers 503 with a JSON error when an upstream cannot be reached", async () => {
    const shop = await startService("frontend", { CATALOG_URL: await closedPortUrl(), ORDER_URL: taps.order?.url ?? "" });
    const page = await getJson(`${shop}/`);
    expect(page.status).toBe(503);
    expect(page.body).toMatchObject({ service: "frontend", upstream: "catalog-service" });
    expect(page.body.error).toMatch(/catalog-service unreachable at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it("keeps the Python catalog's connections alive with a Content-Length on every answer", async () => {
    const catalogUrl = new URL(catalog);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(catalogUrl.port), "127.0.0.1");
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if ((text.match(/"service"/g) ?? []).length === 2) {
          socket.end();
          resolve(text);
        }
      });
      socket.on("error", reject);
      socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(raw).toMatch(/HTTP\/1\.1 404/);
    expect(raw.match(/Content-Length: \d+/g)).toHaveLength(2);
  });
});

describe("the launcher", () => {
  // Away from the defaults, so a demo running on this machine does not change what these tests see.
  const launcherEnv = (env: Record<string, string>) => ({
    TRELLIS_DEMO_PORT_BASE: "29100",
    TRELLIS_SIDECAR_ADMIN_BASE: "29500",
    TRELLIS_GATEWAY_PORT: "29080",
    ...env,
  });

  function runLauncher(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const proc = startProcess(process.execPath, [...nodeWithTs, mainTs], { cwd: demoDir, env: launcherEnv(env) });
    processes.push(proc);
    return proc.waitForExit().then((code) => ({ code, output: proc.output() }));
  }

  it("says catalog-service needs Python 3 and how to point at it", async () => {
    const { code, output } = await runLauncher({ TRELLIS_PYTHON: "/nonexistent/python3" });
    expect(code).toBe(1);
    expect(output).toMatch(/demo: catalog-service needs Python 3, but "\/nonexistent\/python3" could not be run \(ENOENT\)/);
    expect(output).toMatch(/set TRELLIS_PYTHON to its path/);
  });

  it("names the ports already in use and the env var that moves each", async () => {
    const holder = createServer();
    servers.push(holder);
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const busy = (holder.address() as AddressInfo).port;
    const { code, output } = await runLauncher({ TRELLIS_GATEWAY_PORT: String(busy) });
    expect(code).toBe(1);
    expect(output).toContain(`demo: ports already in use on 127.0.0.1: ${busy} for gateway (TRELLIS_GATEWAY_PORT)`);
  });

  it("says how to build the sidecar when it is missing", async () => {
    const { code, output } = await runLauncher({ TRELLIS_SIDECAR_ENTRY: "/nonexistent/sidecar/dist/main.js" });
    expect(code).toBe(1);
    expect(output).toMatch(/the sidecar is not built: \/nonexistent\/sidecar\/dist\/main\.js does not exist/);
  });
});

describe("children of a killed parent", () => {
  function isGone(pid: number): boolean {
    // A zombie has exited; only its parent (perhaps a non-reaping init in a container) has not collected it.
    if (existsSync(`/proc/${pid}/stat`)) return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }

  it("stop by themselves: a TypeScript service, the Python catalog, and a Node program under the sidecar's parent watch", async () => {
    const commands = [
      [process.execPath, ...nodeWithTs, mainTs, "service", "inventory-service"],
      [python, "-u", catalogScript],
      [process.execPath, "--import", parentWatchImport, "-e", "console.log('watched program listening on 127.0.0.1:1'); setInterval(() => {}, 1000)"],
    ];
    // Children share the parent's output so we can see them come up; they are not in a process group of their own.
    const parentScript = `
      const { spawn } = require("node:child_process");
      const pids = JSON.parse(process.argv[1]).map(([cmd, ...args]) =>
        spawn(cmd, args, { cwd: ${JSON.stringify(demoDir)}, env: { ...process.env, PORT: "0" }, stdio: ["ignore", "inherit", "inherit"] }).pid);
      console.log("pids " + JSON.stringify(pids));
      setInterval(() => {}, 1000);`;
    const parent = startProcess(process.execPath, ["-e", parentScript, JSON.stringify(commands)]);
    processes.push(parent);
    const pids = JSON.parse(await waitForOutput(parent, /pids (\[[\d,]+\])/)) as number[];
    expect(pids).toHaveLength(3);
    // Each one starts watching its parent before it says it is listening.
    await waitForOutput(parent, /(?:listening on 127\.0\.0\.1:\d+[\s\S]*){3}/);
    expect(pids.filter(isGone)).toEqual([]);

    // SIGKILL to the parent alone (not its process group): it gets no chance to stop its children.
    const parentPid = parent.child.pid;
    if (parentPid === undefined) throw new Error("the parent process did not start");
    process.kill(parentPid, "SIGKILL");
    await parent.waitForExit();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !pids.every(isGone)) await new Promise((resolve) => setTimeout(resolve, 100));
    const survivors = pids.filter((pid) => !isGone(pid));
    for (const pid of survivors) execFileSync("kill", ["-9", String(pid)]);
    expect(survivors).toEqual([]);
  });
});
