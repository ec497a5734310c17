// The sidecar's identity against a real control plane and its CA (real Postgres): a certificate at start, /ready
// waiting for it, rotation at half-life with a short TTL, a token for another service refused, and the sidecar
// keeping its certificate while the control plane is down and renewing once it is back.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type CaDescription, type CaSettings, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import type { SidecarModeOptions } from "../options.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import type { CertSummary, IdentityMaterial } from "./identity.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const secret = "identity-test-secret-0123456789abcdef";

let testDb: TestDatabase;
let caDir: string;
let controlPlane: ControlPlane;
let controlPlaneUrl: string;
const sidecars: Sidecar[] = [];

const caSettings = (): CaSettings => ({ root: { kind: "dir", dir: caDir }, trustDomain: "cluster.local", certTtlMs: 4_000, joinSecret: secret });

beforeAll(async () => {
  testDb = await createTestDatabase();
  caDir = mkdtempSync(join(tmpdir(), "trellis-identity-"));
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: caSettings() });
  controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;
});

afterAll(async () => {
  await Promise.all(sidecars.map((sidecar) => sidecar.stop()));
  await controlPlane?.stop();
  await testDb?.drop();
  rmSync(caDir, { recursive: true, force: true });
});

async function mintToken(service: string): Promise<string> {
  const response = await fetch(`${controlPlaneUrl}/v1/join-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ namespace: "default", service }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

async function start(service: string, joinToken: string | undefined): Promise<Sidecar> {
  const options: SidecarModeOptions = {
    mode: "sidecar",
    service,
    namespace: "default",
    version: "v1",
    workload: `${service}-${sidecars.length}`,
    adminPort: 0,
    appPort: 9, // never called in these tests
    inboundPort: 0,
    upstreams: [],
    controlPlaneUrl,
    otlpEndpoint: "http://127.0.0.1:9",
    joinToken,
    log: quiet,
  };
  const sidecar = await startSidecar(options);
  sidecars.push(sidecar);
  return sidecar;
}

async function admin<T>(sidecar: Sidecar, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`http://127.0.0.1:${sidecar.ports.admin}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

/** Polls until `done` holds; bounded, and the failure says what was last seen. */
async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("sidecar identity", () => {
  it("gets a certificate for its SPIFFE ID at start, under the control plane's root, and is ready with it", async () => {
    const sidecar = await start("frontend", await mintToken("frontend"));
    const certs = await waitFor("a certificate", () => admin<CertSummary>(sidecar, "/certs"), (r) => r.status === 200);
    const ca = (await (await fetch(`${controlPlaneUrl}/v1/ca`)).json()) as CaDescription;
    expect(certs.body).toMatchObject({ spiffeId: "spiffe://cluster.local/ns/default/sa/frontend", rootFingerprint: ca.rootFingerprint });
    await waitFor("ready", () => admin(sidecar, "/ready"), (r) => r.status === 200);

    // What the rest of the sidecar gets: a key that matches the leaf, and a leaf the root issued.
    const material = sidecar.identity?.current();
    if (!material) throw new Error("no identity material");
    const leaf = new X509Certificate(material.certPem);
    expect(leaf.checkPrivateKey(createPrivateKey(material.keyPem))).toBe(true);
    expect(leaf.checkIssued(new X509Certificate(material.rootPem))).toBe(true);
    expect(material.chainPem).toEqual([material.certPem, ca.rootCertificate]);
  });

  it("rotates at half-life: a new serial and a new key, announced through onRotate", async () => {
    const sidecar = await start("order-service", await mintToken("order-service"));
    const first = await waitFor("a certificate", () => admin<CertSummary>(sidecar, "/certs"), (r) => r.status === 200);
    const rotated: IdentityMaterial[] = [];
    sidecar.identity?.onRotate((material) => rotated.push(material));
    const firstKey = sidecar.identity?.current()?.keyPem;
    // The TTL is 4 s, so a renewal is due about 2 s after the first certificate.
    const second = await waitFor("a rotation", () => admin<CertSummary>(sidecar, "/certs"), (r) => r.status === 200 && r.body.serialNumber !== first.body.serialNumber);
    expect(new Date(second.body.notAfter).getTime()).toBeGreaterThan(new Date(first.body.notAfter).getTime());
    await waitFor("the onRotate call", async () => rotated.length, (n) => n > 0);
    expect(rotated[0]?.keyPem).not.toBe(firstKey);
  });

  it("is not ready with a token for another service, and says why", async () => {
    const sidecar = await start("payment-service", await mintToken("frontend"));
    const ready = await waitFor(
      "the CA's refusal",
      () => admin<{ reason?: string }>(sidecar, "/ready"),
      (r) => r.body.reason?.includes("token allows") ?? false,
    );
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toContain("token allows spiffe://cluster.local/ns/default/sa/frontend, CSR asks for spiffe://cluster.local/ns/default/sa/payment-service");
    expect((await admin(sidecar, "/certs")).status).toBe(503);
  });

  it("without a token, is ready on config alone and has no /certs", async () => {
    const sidecar = await start("catalog-service", undefined);
    await waitFor("ready", () => admin(sidecar, "/ready"), (r) => r.status === 200);
    expect(await admin(sidecar, "/certs")).toEqual({ status: 404, body: { error: "this sidecar has no mesh identity: no TRELLIS_JOIN_TOKEN was given" } });
  });

  it("refuses to start with a token that is not a join token", async () => {
    await expect(start("inventory-service", "not-a-token")).rejects.toThrow("TRELLIS_JOIN_TOKEN is not a Trellis join token");
  });

  it("keeps its certificate while the control plane is down, then renews once it is back", async () => {
    const sidecar = await start("inventory-service", await mintToken("inventory-service"));
    const before = await waitFor("a certificate", () => admin<CertSummary>(sidecar, "/certs"), (r) => r.status === 200);
    const port = controlPlane.port;
    await controlPlane.stop();
    // Until it expires the certificate stays; after that the sidecar says it cannot reach the CA.
    const lapsed = await waitFor("the certificate to lapse", () => admin<{ error?: string }>(sidecar, "/certs"), (r) => r.status === 503);
    expect(lapsed.body.error).toContain("cannot reach the mesh CA");
    controlPlane = await startControlPlane({ db: testDb.db, port, log: quiet, ca: caSettings() });
    const after = await waitFor("a renewal", () => admin<CertSummary>(sidecar, "/certs"), (r) => r.status === 200);
    expect(after.body.serialNumber).not.toBe(before.body.serialNumber);
    expect(after.body.rootFingerprint).toBe(before.body.rootFingerprint);
  });
});
