// mTLS between real sidecars under a real control plane and its CA (real Postgres), with short-lived certificates so
// rotations happen during the tests: STRICT refuses plaintext and foreign-CA certificates, PERMISSIVE takes both on
// one port, sidecar → sidecar traffic is mutual TLS with the caller's SPIFFE ID seen inbound, AuthorizationPolicy
// denies with 403 RBAC, a server with the wrong SPIFFE ID gets the caller a 503 UF, and rotation drops nothing.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import type { IdentityMaterial } from "../identity/identity.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import type { FinishedSpan } from "../telemetry/index.ts";
import { createForeignMaterial, meshClient, registerImpostor, sameSerial, send, startApp, waitFor, type App } from "./mtls.fixture.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const secret = "mtls-test-secret-0123456789abcdef0123";
/** Short enough that every sidecar rotates (at half-life, ~3 s) several times while the tests run. */
const CERT_TTL_MS = 6_000;
const FRONTEND_ID = "spiffe://cluster.local/ns/default/sa/frontend";

const POLICIES = `apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: legacy, namespace: default}
spec:
  selector: {matchLabels: {app: legacy}}
  mtls: {mode: PERMISSIVE}
---
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata: {name: plain, namespace: default}
spec:
  selector: {matchLabels: {app: plain-service}}
  mtls: {mode: DISABLE}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: catalog-callers, namespace: default}
spec:
  selector: {matchLabels: {app: catalog-service}}
  action: ALLOW
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/default/sa/frontend"]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: catalog-no-admin, namespace: default}
spec:
  selector: {matchLabels: {app: catalog-service}}
  action: DENY
  rules:
  - to:
    - operation: {paths: ["/admin*"]}
`;

let testDb: TestDatabase;
let caDir: string;
let controlPlane: ControlPlane;
let controlPlaneUrl: string;
const apps: App[] = [];
const sidecars: Sidecar[] = [];
const closers: Array<() => void> = [];
let catalogApp: App;
let legacyApp: App;
let plainApp: App;
let frontend: Sidecar;
let catalog: Sidecar;
let legacy: Sidecar;
let plain: Sidecar;
let intruder: Sidecar;
const catalogSpans: FinishedSpan[] = [];

async function mintToken(service: string): Promise<string> {
  const response = await fetch(`${controlPlaneUrl}/v1/join-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ namespace: "default", service }),
  });
  if (response.status !== 200) throw new Error(`join token for ${service}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

async function start(service: string, appPort: number, upstreams: string[], spans?: FinishedSpan[]): Promise<Sidecar> {
  const sidecar = await startSidecar({
    mode: "sidecar",
    service,
    namespace: "default",
    version: "v1",
    workload: `${service}-0`,
    adminPort: 0,
    appPort,
    inboundPort: 0,
    upstreams: upstreams.map((name) => ({ service: name, port: 0 })),
    controlPlaneUrl,
    otlpEndpoint: "http://127.0.0.1:9",
    joinToken: await mintToken(service),
    log: quiet,
    onSpanEnd: spans ? (span) => spans.push(span) : undefined,
  });
  sidecars.push(sidecar);
  await waitFor(`${service} ready (config and certificate)`, () => fetch(`http://127.0.0.1:${sidecar.ports.admin}/ready`).then((r) => r.status), (s) => s === 200);
  return sidecar;
}

const materialOf = (sidecar: Sidecar): IdentityMaterial => {
  const material = sidecar.identity?.current();
  if (!material) throw new Error(`${sidecar.node.id} has no certificate`);
  return material;
};
const inboundPort = (sidecar: Sidecar) => sidecar.ports.inbound ?? 0;
const outboundPort = (sidecar: Sidecar, upstream: string) => sidecar.ports.upstreams[upstream] ?? 0;
const stats = (sidecar: Sidecar) => {
  if (!sidecar.inbound) throw new Error(`${sidecar.node.id} has no inbound listener`);
  return { ...sidecar.inbound.stats() };
};
const endpointsOf = async (sidecar: Sidecar, cluster: string) => {
  const dump = (await (await fetch(`http://127.0.0.1:${sidecar.ports.admin}/config_dump`)).json()) as { snapshot: { clusters: Record<string, { endpoints: unknown[] }> } | null };
  return dump.snapshot?.clusters[cluster]?.endpoints.length ?? 0;
};

beforeAll(async () => {
  testDb = await createTestDatabase();
  caDir = mkdtempSync(join(tmpdir(), "trellis-mtls-"));
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: { root: { kind: "dir", dir: caDir }, trustDomain: "cluster.local", certTtlMs: CERT_TTL_MS, joinSecret: secret } });
  controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
  const applied = await fetch(`${controlPlaneUrl}/v1/policies/apply`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ yaml: POLICIES, author: "mtls test" }),
  });
  if (applied.status !== 200) throw new Error(`apply failed: ${applied.status} ${await applied.text()}`);

  catalogApp = await startApp("catalog");
  legacyApp = await startApp("legacy");
  plainApp = await startApp("plain");
  const frontendApp = await startApp("frontend");
  apps.push(catalogApp, legacyApp, plainApp, frontendApp);
  catalog = await start("catalog-service", catalogApp.port, [], catalogSpans);
  legacy = await start("legacy", legacyApp.port, []);
  plain = await start("plain-service", plainApp.port, []);
  frontend = await start("frontend", frontendApp.port, ["catalog-service", "legacy", "payments", "plain-service"]);
  intruder = await start("intruder", frontendApp.port, ["catalog-service"]);
  await waitFor("frontend to see catalog and legacy", async () => [await endpointsOf(frontend, "catalog-service"), await endpointsOf(frontend, "legacy"), await endpointsOf(frontend, "plain-service")], (n) => n.every((count) => count === 1));
  await waitFor("intruder to see catalog", () => endpointsOf(intruder, "catalog-service"), (n) => n === 1);
}, 60_000);

afterAll(async () => {
  for (const close of closers) close();
  await Promise.all(sidecars.map((sidecar) => sidecar.stop()));
  await controlPlane?.stop();
  await Promise.all(apps.map((app) => app.close()));
  await testDb?.drop();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

describe("inbound mTLS modes", () => {
  it("STRICT refuses plaintext, counts it, and the app never sees the request", async () => {
    const before = stats(catalog).plaintextRefused;
    const seen = catalogApp.seen.length;
    await expect(send(inboundPort(catalog), { path: "/plain" })).rejects.toThrow();
    expect(stats(catalog).plaintextRefused).toBe(before + 1);
    expect(catalogApp.seen.length).toBe(seen);
  });

  it("STRICT refuses a client certificate from a foreign CA, and TLS without a client certificate", async () => {
    const foreign = await createForeignMaterial(FRONTEND_ID);
    const before = stats(catalog).handshakeFailed;
    const seen = catalogApp.seen.length;
    // The client trusts the mesh root (so it is the server that refuses), but presents a leaf the mesh never issued.
    await expect(send(inboundPort(catalog), { path: "/foreign", tls: meshClient(foreign, materialOf(frontend).rootPem) })).rejects.toThrow();
    const { rootPem } = materialOf(frontend);
    await expect(send(inboundPort(catalog), { path: "/anonymous", tls: { ca: rootPem, checkServerIdentity: () => undefined } })).rejects.toThrow();
    await waitFor("both handshakes counted", () => stats(catalog).handshakeFailed, (n) => n >= before + 2);
    expect(catalogApp.seen.length).toBe(seen);
  });

  it("STRICT accepts a mesh certificate and tells the app who called (x-forwarded-client-cert)", async () => {
    const reply = await send(inboundPort(catalog), { path: "/direct", tls: meshClient(materialOf(frontend)) });
    expect(reply.status).toBe(200);
    expect(sameSerial(reply.serial, materialOf(catalog).serialNumber)).toBe(true);
    expect(catalogApp.seen.at(-1)?.headers["x-forwarded-client-cert"]).toBe(`By=spiffe://cluster.local/ns/default/sa/catalog-service;URI=${FRONTEND_ID}`);
  });

  it("PERMISSIVE accepts plaintext and mTLS on the same port, and a forged x-forwarded-client-cert never reaches the app", async () => {
    const port = inboundPort(legacy);
    const plain = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/plain", headers: { "x-forwarded-client-cert": "URI=spiffe://cluster.local/ns/default/sa/admin" }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(plain).toBe(200);
    expect(legacyApp.seen.at(-1)?.headers["x-forwarded-client-cert"]).toBeUndefined();
    const secure = await send(port, { path: "/secure", tls: meshClient(materialOf(frontend)) });
    expect(secure.status).toBe(200);
    expect(legacyApp.seen.at(-1)?.headers["x-forwarded-client-cert"]).toContain(`URI=${FRONTEND_ID}`);
    expect(stats(legacy)).toMatchObject({ plaintextRefused: 0 });
    expect(stats(legacy).plaintextAccepted).toBeGreaterThan(0);
    expect(stats(legacy).mtlsAccepted).toBeGreaterThan(0);
  });

  it("PERMISSIVE also takes plaintext HTTP/2 (h2c) on the same port", async () => {
    const received: string[] = [];
    legacy.inbound?.http2.once("stream", (stream, headers) => {
      received.push(String(headers[":path"]));
      stream.respond({ ":status": 204 });
      stream.end();
    });
    const session = http2.connect(`http://127.0.0.1:${inboundPort(legacy)}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":path": "/h2c" });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        stream.resume();
        stream.end();
      });
      expect(status).toBe(204);
      expect(received).toEqual(["/h2c"]);
    } finally {
      session.close();
    }
  });

  it("DISABLE refuses TLS and takes plaintext, and callers send it plaintext", async () => {
    const before = stats(plain).tlsRefused;
    await expect(send(inboundPort(plain), { path: "/tls", tls: meshClient(materialOf(frontend)) })).rejects.toThrow();
    expect(stats(plain).tlsRefused).toBe(before + 1);
    const mtlsBefore = stats(plain).mtlsAccepted;
    const reply = await send(outboundPort(frontend, "plain-service"), { path: "/via-frontend" });
    expect(reply.status).toBe(200);
    expect(plainApp.seen.at(-1)?.headers["x-forwarded-client-cert"]).toBeUndefined();
    expect(stats(plain).mtlsAccepted).toBe(mtlsBefore);
  });

  it("applies a pushed mode change to new connections and leaves established ones alone", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await send(inboundPort(legacy), { path: "/before", agent })).status).toBe(200);
      const strict = POLICIES.replace("mtls: {mode: PERMISSIVE}", "mtls: {mode: STRICT}");
      const applied = await fetch(`${controlPlaneUrl}/v1/policies/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ yaml: strict, author: "mtls test", wait: true }) });
      expect(applied.status).toBe(200);
      await waitFor(
        "legacy to run STRICT",
        () => fetch(`http://127.0.0.1:${legacy.ports.admin}/config_dump`).then((r) => r.json() as Promise<{ snapshot: { inbound: { mtlsMode: string } } | null }>),
        (dump) => dump.snapshot?.inbound.mtlsMode === "STRICT",
      );
      await expect(send(inboundPort(legacy), { path: "/new-plaintext" })).rejects.toThrow();
      const kept = await send(inboundPort(legacy), { path: "/kept", agent });
      expect(kept).toMatchObject({ status: 200, reusedSocket: true });
    } finally {
      agent.destroy();
      const restored = await fetch(`${controlPlaneUrl}/v1/policies/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ yaml: POLICIES, author: "mtls test", wait: true }) });
      expect(restored.status).toBe(200);
    }
  });
});

describe("sidecar to sidecar", () => {
  it("is mutual TLS when the destination is STRICT: the destination sees the caller's verified SPIFFE ID", async () => {
    const before = stats(catalog);
    const reply = await send(outboundPort(frontend, "catalog-service"), { path: "/items/1" });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe("catalog");
    const seen = catalogApp.seen.at(-1);
    expect(seen?.url).toBe("/items/1");
    expect(seen?.headers["x-forwarded-client-cert"]).toBe(`By=spiffe://cluster.local/ns/default/sa/catalog-service;URI=${FRONTEND_ID}`);
    // The caller's peer metadata is read by the destination sidecar, not passed to the app.
    expect(seen?.headers["x-trellis-peer-metadata"]).toBeUndefined();
    expect(stats(catalog).plaintextRefused).toBe(before.plaintextRefused);
    const span = await waitFor("catalog's server span", () => catalogSpans.find((s) => s.attributes["url.path"] === "/items/1"), (s) => s !== undefined);
    expect(span?.attributes["trellis.source_principal"]).toBe(FRONTEND_ID);
    expect(span?.attributes["trellis.destination_principal"]).toBe("spiffe://cluster.local/ns/default/sa/catalog-service");
    // Istio's destination-side metric: the source labels from frontend's peer metadata, the hop as mutual TLS.
    const metrics = await waitFor(
      "catalog's destination-side request metric",
      () => fetch(`http://127.0.0.1:${catalog.ports.admin}/stats/prometheus`).then((r) => r.text()),
      (text) => text.split("\n").some((line) => line.startsWith("istio_requests_total{") && line.includes('reporter="destination"') && line.includes('source_workload="frontend-0"')),
    );
    const line = metrics.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="destination"') && l.includes('source_workload="frontend-0"') && l.includes('response_code="200"'));
    expect(line).toContain('connection_security_policy="mutual_tls"');
    expect(line).toContain('source_app="frontend"');
    expect(line).toContain('destination_workload="catalog-service-0"');
  });

  it("denies by AuthorizationPolicy with 403 RBAC: a DENY path, and a caller no ALLOW policy names", async () => {
    const seen = catalogApp.seen.length;
    const admin = await send(outboundPort(frontend, "catalog-service"), { path: "/admin/users" });
    expect(admin.status).toBe(403);
    expect(admin.body).toBe("RBAC: access denied");
    const stranger = await send(outboundPort(intruder, "catalog-service"), { path: "/items/2" });
    expect(stranger.status).toBe(403);
    expect(stranger.body).toBe("RBAC: access denied");
    expect(catalogApp.seen.length).toBe(seen);
    const spans = await waitFor(
      "the denied spans",
      () => catalogSpans.filter((s) => s.attributes["url.path"] === "/admin/users" || s.attributes["url.path"] === "/items/2"),
      (list) => list.length === 2,
    );
    expect(spans.map((s) => s.attributes["trellis.response_flags"])).toEqual(["RBAC", "RBAC"]);
    // The ALLOW policy names frontend: its ordinary requests pass.
    expect((await send(outboundPort(frontend, "catalog-service"), { path: "/items/3" })).status).toBe(200);
  });

  it("answers the caller 503 UF, saying why, when the server presents another service's SPIFFE ID", async () => {
    // A TLS server with a valid mesh certificate — catalog-service's — registered as an endpoint of payments.
    const impostor = tls.createServer({ cert: materialOf(catalog).certPem, key: materialOf(catalog).keyPem, ALPNProtocols: ["http/1.1"] }, (socket) => socket.end());
    await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
    closers.push(() => impostor.close());
    closers.push(registerImpostor(controlPlaneUrl, "payments", (impostor.address() as AddressInfo).port));
    await waitFor("frontend to see the payments impostor", () => endpointsOf(frontend, "payments"), (n) => n === 1);
    const reply = await send(outboundPort(frontend, "payments"), { path: "/charge" });
    expect(reply.status).toBe(503);
    expect(reply.headers["x-trellis-response-flags"]).toContain("UF");
    expect(reply.body).toContain("server identity spiffe://cluster.local/ns/default/sa/catalog-service is not spiffe://cluster.local/ns/default/sa/payments");
  });
});

describe("certificate rotation", () => {
  it("drops nothing while certificates rotate under kept-alive connections, and new handshakes use the new certificate", async () => {
    const firstSerial = materialOf(catalog).serialNumber;
    // A kept-alive mTLS connection straight to catalog's mesh port, opened on the current certificates.
    const direct = new https.Agent({ keepAlive: true, maxSockets: 1, ...meshClient(materialOf(frontend)) });
    const app = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const first = await send(inboundPort(catalog), { path: "/rotate/direct", agent: direct });
    expect(sameSerial(first.serial, firstSerial)).toBe(true);
    const failures: string[] = [];
    let requests = 0;
    let stop = false;
    // Four callers through frontend's outbound listener (kept alive on both hops) until both sides rotated twice.
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const reply = await send(outboundPort(frontend, "catalog-service"), { path: "/rotate/mesh", agent: app }).catch((error: Error) => ({ status: 0, body: error.message }));
        requests += 1;
        if (reply.status !== 200) failures.push(`${reply.status} ${reply.body}`);
      }
    });
    const serials = new Set<string>([firstSerial]);
    const frontendSerials = new Set<string>([materialOf(frontend).serialNumber]);
    await waitFor(
      "two rotations on each side",
      () => {
        serials.add(materialOf(catalog).serialNumber);
        frontendSerials.add(materialOf(frontend).serialNumber);
        return [serials.size, frontendSerials.size];
      },
      ([a = 0, b = 0]) => a >= 3 && b >= 3,
      30_000,
    );
    stop = true;
    await Promise.all(load);

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(10);
    // The connection made on the first certificate is still the one in use, and still presents that certificate.
    const later = await send(inboundPort(catalog), { path: "/rotate/direct", agent: direct });
    expect(later.reusedSocket).toBe(true);
    expect(sameSerial(later.serial, firstSerial)).toBe(true);
    // A new handshake gets the newest certificate.
    const newest = materialOf(catalog).serialNumber;
    const fresh = await send(inboundPort(catalog), { path: "/rotate/fresh", tls: meshClient(materialOf(frontend)) });
    expect(sameSerial(fresh.serial, firstSerial)).toBe(false);
    // The newest when the handshake began, or one newer still if a rotation landed during it.
    expect(sameSerial(fresh.serial, newest) || sameSerial(fresh.serial, materialOf(catalog).serialNumber)).toBe(true);
    direct.destroy();
    app.destroy();
  }, 45_000);
});
