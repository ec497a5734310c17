// Routing policy end to end: Istio YAML applied through the control plane's REST API (the seed file unchanged,
// then variations) is pushed to a frontend sidecar, which splits order-service traffic 90/10 across two real
// sidecars labelled v1 and v2, sends x-canary requests to v2, cuts a slow route at its timeout, says NR when no
// route matches, and injects faults — all checked on the answers and on the frontend's client spans.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startSidecar, type Sidecar } from "./sidecar.ts";
import type { FinishedSpan } from "./telemetry/index.ts";

const seedYaml = readFileSync(resolve(import.meta.dirname, "../../demo/policies/seed-policies.yaml"), "utf8");
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const REQUESTS = 2_000;

type Server = { port: number; close: () => Promise<void> };

async function serve(handler: http.RequestListener): Promise<Server> {
  const server = http.createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))),
  };
}

/** An order-service instance: answers its version, never answers /slow, and stalls mid-body on /stall. */
function orderApp(version: string): Promise<Server> {
  return serve((req, res) => {
    if (req.url?.startsWith("/slow")) return; // the route timeout is the only way this ends
    if (req.url?.startsWith("/stall")) {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      return;
    }
    req.resume();
    res.writeHead(200, { "content-type": "text/plain", "x-version": version });
    res.end(version);
  });
}

type Reply = { status: number; flags: string | undefined; body: string };

function get(port: number, path: string, agent: http.Agent, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => done({ status: res.statusCode ?? 0, flags: res.headers["x-trellis-response-flags"] as string | undefined, body }));
      res.on("error", fail);
    });
    req.on("error", fail);
  });
}

/** `count` GETs, `concurrency` at a time over kept-alive connections; the answers' bodies, counted. */
async function tally(port: number, path: string, count: number, headers: http.OutgoingHttpHeaders = {}, concurrency = 16): Promise<Map<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const counts = new Map<string, number>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const reply = await get(port, path, agent, headers);
      const key = reply.status === 200 ? reply.body : `${reply.status} ${reply.flags ?? ""}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return counts;
}

async function waitFor<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

type ApplyReply = { revision: number; sidecars: Array<{ id: string; status: string; error: string | null }> | null };
type ConfigDump = {
  version: number | null;
  snapshot: {
    clusters: Record<string, { endpoints: Array<{ workloadId: string }> }>;
    virtualHosts: Array<{ upstream: string; routes: Array<{ name?: string; destinations: Array<{ cluster: string; weight: number }> }> }>;
  } | null;
};

let testDb: TestDatabase;
let caDir: string;
let controlPlane: ControlPlane;
const servers: Server[] = [];
const sidecars: Sidecar[] = [];
let frontend: Sidecar;
const frontendSpans: FinishedSpan[] = [];

const outbound = () => frontend.ports.upstreams["order-service"] ?? 0;
const configDump = () => fetch(`http://127.0.0.1:${frontend.ports.admin}/config_dump`).then((r) => r.json() as Promise<ConfigDump>);
const orderRoutes = (dump: ConfigDump) => dump.snapshot?.virtualHosts.find((h) => h.upstream === "order-service")?.routes ?? [];

/** Applies Istio YAML through the control plane's REST API and waits until every affected sidecar ACKed it. */
async function applyPolicies(yaml: string): Promise<ApplyReply> {
  const response = await fetch(`http://127.0.0.1:${controlPlane.port}/v1/policies/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ yaml, author: "weighted-routing test", wait: true }),
  });
  const body = (await response.json()) as ApplyReply & { error?: string };
  if (response.status !== 200) throw new Error(`apply failed (${response.status}): ${body.error ?? JSON.stringify(body)}`);
  expect(body.sidecars?.filter((s) => s.status !== "acked") ?? []).toEqual([]);
  return body;
}

/** The frontend's client spans for requests to `path` (its outbound listener's spans). */
const spansFor = (path: string): FinishedSpan[] => frontendSpans.filter((s) => s.attributes["url.path"] === path);

function orderService({ name, split, extra = "" }: { name?: string; split: [number, number]; extra?: string }): string {
  return `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts:
  - order-service
  http:
${extra}  - ${name === undefined ? "" : `name: ${name}\n    `}route:
    - destination:
        host: order-service
        subset: v1
      weight: ${split[0]}
    - destination:
        host: order-service
        subset: v2
      weight: ${split[1]}
`;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  // The seed makes mTLS STRICT mesh-wide, so every sidecar needs a mesh identity: a CA and a join token each.
  caDir = mkdtempSync(join(tmpdir(), "trellis-weighted-"));
  const joinSecret = "weighted-routing-secret-0123456789abcdef";
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: { root: { kind: "dir", dir: caDir }, trustDomain: "cluster.local", certTtlMs: 3_600_000, joinSecret } });
  const controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
  const mintToken = async (service: string) => {
    const response = await fetch(`${controlPlaneUrl}/v1/join-tokens`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${joinSecret}` }, body: JSON.stringify({ namespace: "default", service }) });
    return ((await response.json()) as { token: string }).token;
  };
  const otlp = await serve((req, res) => req.resume().on("end", () => res.end()));
  const frontendApp = await serve((_req, res) => res.end("frontend"));
  const [v1App, v2App] = [await orderApp("v1"), await orderApp("v2")];
  servers.push(otlp, frontendApp, v1App, v2App);
  const common = { mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: `http://127.0.0.1:${otlp.port}`, log: quiet } as const;
  frontend = await startSidecar({
    ...common,
    service: "frontend",
    version: "v1",
    workload: "frontend-v1-0",
    appPort: frontendApp.port,
    upstreams: [{ service: "order-service", port: 0 }],
    joinToken: await mintToken("frontend"),
    onSpanEnd: (span) => frontendSpans.push(span),
  });
  sidecars.push(frontend);
  for (const [version, app] of [["v1", v1App], ["v2", v2App]] as const) {
    sidecars.push(await startSidecar({ ...common, service: "order-service", version, workload: `order-${version}-0`, appPort: app.port, upstreams: [], joinToken: await mintToken("order-service") }));
  }
  await waitFor("frontend to see both order-service instances", configDump, (dump) => dump.snapshot?.clusters["order-service"]?.endpoints.length === 2);
  await waitFor("every sidecar's certificate", () => sidecars.map((s) => s.identity?.current() != null), (have) => have.every(Boolean));
});

afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.stop()));
  await controlPlane?.stop();
  await Promise.all(servers.map((s) => s.close()));
  await testDb?.drop();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

describe("weighted routing (the seed's order-service canary)", () => {
  it("pushes the seed's 90/10 split as subset clusters, each holding the sidecars with that version label", async () => {
    await applyPolicies(seedYaml);
    const dump = await configDump();
    expect(orderRoutes(dump).map((r) => r.destinations)).toEqual([
      [
        { cluster: "order-service|v1", weight: 90 },
        { cluster: "order-service|v2", weight: 10 },
      ],
    ]);
    expect(dump.snapshot?.clusters["order-service|v1"]?.endpoints.map((e) => e.workloadId)).toEqual(["order-v1-0"]);
    expect(dump.snapshot?.clusters["order-service|v2"]?.endpoints.map((e) => e.workloadId)).toEqual(["order-v2-0"]);
  });

  it(`splits ${REQUESTS} requests through the frontend's outbound listener 90/10 within ±3%`, async () => {
    const counts = await tally(outbound(), "/orders", REQUESTS);
    expect([...counts.keys()].sort()).toEqual(["v1", "v2"]);
    const v2Share = (counts.get("v2") ?? 0) / REQUESTS;
    expect(v2Share).toBeGreaterThanOrEqual(0.07);
    expect(v2Share).toBeLessThanOrEqual(0.13);
  });

  it("marks each client span with the destination cluster and subset", () => {
    const spans = spansFor("/orders");
    expect(spans).toHaveLength(REQUESTS);
    const bySubset = new Map<unknown, number>();
    for (const span of spans) {
      const subset = span.attributes["trellis.destination_subset"];
      expect(span.attributes["trellis.cluster"]).toBe(`order-service|${String(subset)}`);
      expect(span.attributes["trellis.destination_workload"]).toBe(`order-${String(subset)}-0`);
      bySubset.set(subset, (bySubset.get(subset) ?? 0) + 1);
    }
    expect([...bySubset.keys()].sort()).toEqual(["v1", "v2"]);
  });
});

describe("route matches and timeouts", () => {
  const canaryHeader = `  - name: canary-header
    match:
    - headers:
        x-canary:
          exact: "true"
    route:
    - destination:
        host: order-service
        subset: v2
  - name: slow-reads
    match:
    - uri:
        prefix: /slow
    - uri:
        prefix: /stall
    timeout: 100ms
    route:
    - destination:
        host: order-service
        subset: v1
`;

  beforeAll(async () => {
    await applyPolicies(orderService({ name: "canary-split", split: [90, 10], extra: canaryHeader }));
    expect(orderRoutes(await configDump()).map((r) => r.name)).toEqual(["canary-header", "slow-reads", "canary-split"]);
  });

  it("sends x-canary: true to v2 ahead of the weighted default, and the rest still by weight", async () => {
    expect(await tally(outbound(), "/canary", 200, { "x-canary": "true" })).toEqual(new Map([["v2", 200]]));
    const spans = spansFor("/canary");
    expect(spans).toHaveLength(200);
    expect(spans.every((s) => s.attributes["trellis.route_name"] === "canary-header" && s.attributes["trellis.cluster"] === "order-service|v2")).toBe(true);

    const rest = await tally(outbound(), "/not-canary", 200, { "x-canary": "false" });
    expect(rest.get("v1")).toBeGreaterThan(0);
    expect(spansFor("/not-canary").every((s) => s.attributes["trellis.route_name"] === "canary-split")).toBe(true);
  });

  it("answers 504 UT when the app does not answer within the route's 100 ms timeout", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const reply = await get(outbound(), "/slow/orders?id=1", agent);
    agent.destroy();
    expect(reply).toMatchObject({ status: 504, flags: "UT" });
    expect(reply.body).toContain("within the route timeout of 100 ms");
    const span = await waitFor("the UT span", () => spansFor("/slow/orders")[0], (s) => s !== undefined);
    expect(span?.attributes).toMatchObject({ "trellis.response_flags": "UT", "http.response.status_code": 504, "trellis.route_name": "slow-reads", "trellis.cluster": "order-service|v1" });
  });

  it("cuts the connection and flags UT when the body is still coming at the timeout", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const outcome = await get(outbound(), "/stall", agent).then(
      () => "completed",
      () => "cut",
    );
    agent.destroy();
    expect(outcome).toBe("cut");
    const span = await waitFor("the stalled span", () => spansFor("/stall")[0], (s) => s !== undefined);
    expect(span?.attributes).toMatchObject({ "trellis.response_flags": "UT", "http.response.status_code": 200 });
  });

  it("answers 404 NR when no route of the upstream matches", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts:
  - order-service
  http:
  - match:
    - headers:
        x-canary:
          exact: "true"
    route:
    - destination:
        host: order-service
        subset: v2
`);
    const agent = new http.Agent({ keepAlive: true });
    const reply = await get(outbound(), "/orders", agent);
    const canary = await get(outbound(), "/orders", agent, { "x-canary": "true" });
    agent.destroy();
    expect(reply).toMatchObject({ status: 404, flags: "NR" });
    expect(reply.body).toContain('none of the 1 route(s) of upstream "order-service" matches GET /orders');
    expect(canary).toMatchObject({ status: 200, body: "v2" });
  });
});

describe("fault injection", () => {
  beforeAll(async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts:
  - order-service
  http:
  - name: abort
    match:
    - uri:
        prefix: /abort
    fault:
      abort:
        httpStatus: 418
    route:
    - destination:
        host: order-service
        subset: v1
  - name: delay
    match:
    - uri:
        prefix: /delay
    fault:
      delay:
        fixedDelay: 50ms
    route:
    - destination:
        host: order-service
        subset: v2
`);
  });

  it("answers an aborted route with the configured status and FI, without calling the app", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const reply = await get(outbound(), "/abort", agent);
    agent.destroy();
    expect(reply).toMatchObject({ status: 418, flags: "FI" });
    const span = await waitFor("the FI span", () => spansFor("/abort")[0], (s) => s !== undefined);
    expect(span?.attributes).toMatchObject({ "trellis.response_flags": "FI", "http.response.status_code": 418 });
    expect(span?.attributes["trellis.destination_workload"]).toBeUndefined();
  });

  it("forwards a delayed route after the delay, flagged DI", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const reply = await get(outbound(), "/delay", agent);
    agent.destroy();
    expect(reply).toMatchObject({ status: 200, body: "v2" });
    const span = await waitFor("the DI span", () => spansFor("/delay")[0], (s) => s !== undefined);
    expect(span?.attributes).toMatchObject({ "trellis.response_flags": "DI", "trellis.destination_workload": "order-v2-0" });
  });
});
