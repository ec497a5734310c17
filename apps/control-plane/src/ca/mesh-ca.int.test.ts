// The mesh CA inside a real control plane on a real Postgres: join tokens minted over REST, CSRs signed into
// leaves that chain to the root, refusals (foreign identity 403, bad token 401), the root kept on disk with 0600
// and reused across restarts, and each workload's certificate expiry recorded for `trellis get sidecars`.
import { mkdtempSync, rmSync, statSync, chmodSync, readFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeLine } from "@trellis/mesh-config";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { startControlPlane, type ControlPlane } from "../control-plane.ts";
import type { SidecarView } from "../rest.ts";
import type { CaSettings } from "./mesh-ca.ts";
import { ROOT_CERT_FILE, ROOT_KEY_FILE } from "./root.ts";
import { ECDSA_P256, x509, type CryptoKeyPair, type EcKeyAlgorithm } from "./x509.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const secret = "test-join-secret-0123456789abcdef";
const ttlMs = 10 * 60_000;

let testDb: TestDatabase;
let caDir: string;
let controlPlane: ControlPlane;
let baseUrl: string;

const settings = (): CaSettings => ({ root: { kind: "dir", dir: caDir }, trustDomain: "cluster.local", certTtlMs: ttlMs, joinSecret: secret });

beforeAll(async () => {
  testDb = await createTestDatabase();
  caDir = join(mkdtempSync(join(tmpdir(), "trellis-ca-")), "ca");
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: settings() });
  baseUrl = `http://127.0.0.1:${controlPlane.port}`;
});

afterAll(async () => {
  await controlPlane?.stop();
  await testDb?.drop();
  rmSync(join(caDir, ".."), { recursive: true, force: true });
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${baseUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function mintToken(service: string, extra: Record<string, string> = {}): Promise<string> {
  const { status, body } = await post("/v1/join-tokens", { namespace: "default", service, ...extra }, { authorization: `Bearer ${secret}` });
  expect(status).toBe(200);
  return String(body.token);
}

async function makeCsr(spiffeId: string): Promise<string> {
  const keys = (await crypto.subtle.generateKey(ECDSA_P256, false, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: ECDSA_P256, extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }])] });
  return csr.toString("pem");
}

const frontendId = "spiffe://cluster.local/ns/default/sa/frontend";

describe("mesh CA", () => {
  it("creates the root on first start: key 0600, a P-256 CA certificate, described by GET /v1/ca", async () => {
    expect(statSync(join(caDir, ROOT_KEY_FILE)).mode & 0o777).toBe(0o600);
    const response = await fetch(`${baseUrl}/v1/ca`);
    const body = (await response.json()) as { trustDomain: string; rootFingerprint: string; rootNotAfter: string; rootCertificate: string };
    expect(body.trustDomain).toBe("cluster.local");
    const root = new x509.X509Certificate(readFileSync(join(caDir, ROOT_CERT_FILE), "utf8"));
    expect(body.rootCertificate).toBe(root.toString("pem"));
    expect(body.rootFingerprint).toBe(Buffer.from(await root.getThumbprint("SHA-256")).toString("hex"));
    expect(root.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(new Date(body.rootNotAfter).getUTCFullYear() - new Date().getUTCFullYear()).toBe(10);
  });

  it("signs a CSR for the token's identity: SAN, P-256, chains to the root, lives for the TTL", async () => {
    const token = await mintToken("frontend");
    const before = Date.now();
    const { status, body } = await post("/v1/certificates", { csr: await makeCsr(frontendId), token });
    expect(status).toBe(200);
    const [leafPem, rootPem] = body.certificateChain as [string, string];
    const leaf = new x509.X509Certificate(leafPem);
    const root = new x509.X509Certificate(rootPem);
    expect(leaf.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([{ type: "url", value: frontendId }]);
    expect(leaf.publicKey.algorithm as EcKeyAlgorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    const chain = await new x509.X509ChainBuilder({ certificates: [root] }).build(leaf);
    expect(chain.map((cert) => cert.serialNumber)).toEqual([leaf.serialNumber, root.serialNumber]);
    expect(await leaf.verify({ publicKey: root.publicKey, signatureOnly: true })).toBe(true);
    // notAfter is encoded to the second.
    expect(leaf.notAfter.getTime()).toBeGreaterThanOrEqual(Math.floor((before + ttlMs) / 1000) * 1000);
    expect(leaf.notAfter.getTime()).toBeLessThanOrEqual(Date.now() + ttlMs);
    expect(body.expiresAt).toBe(leaf.notAfter.toISOString());
  });

  it("refuses a CSR for an identity the token does not allow with 403, naming both", async () => {
    const token = await mintToken("frontend");
    const { status, body } = await post("/v1/certificates", { csr: await makeCsr("spiffe://cluster.local/ns/default/sa/payment-service"), token });
    expect(status).toBe(403);
    expect(body.error).toBe(`token allows ${frontendId}, CSR asks for spiffe://cluster.local/ns/default/sa/payment-service`);
  });

  it("refuses a bad or expired token with 401", async () => {
    const csr = await makeCsr(frontendId);
    const token = await mintToken("frontend");
    const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    expect(await post("/v1/certificates", { csr, token: tampered })).toMatchObject({ status: 401, body: { error: expect.stringContaining("signature does not match") as string } });
    expect(await post("/v1/certificates", { csr, token: "garbage" })).toMatchObject({ status: 401 });
    const shortLived = await mintToken("frontend", { ttl: "1s" });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await post("/v1/certificates", { csr, token: shortLived })).toMatchObject({ status: 401, body: { error: expect.stringContaining("expired") as string } });
  });

  it("refuses a request without a CSR or token with 400 naming the field", async () => {
    const { status, body } = await post("/v1/certificates", { token: "x" });
    expect(status).toBe(400);
    expect(body.error).toContain("csr");
  });

  it("mints join tokens only for callers that present the join secret", async () => {
    expect(await post("/v1/join-tokens", { service: "frontend" })).toMatchObject({ status: 401 });
    expect(await post("/v1/join-tokens", { service: "frontend" }, { authorization: "Bearer wrong" })).toMatchObject({ status: 401 });
    expect(await post("/v1/join-tokens", { service: "Front End" }, { authorization: `Bearer ${secret}` })).toMatchObject({ status: 400 });
    const { body } = await post("/v1/join-tokens", { service: "frontend" }, { authorization: `Bearer ${secret}` });
    expect(body).toMatchObject({ spiffeId: frontendId, token: expect.any(String) as string });
  });

  it("records the certificate's expiry on the workload's row, even when the certificate comes before the registration", async () => {
    const token = await mintToken("frontend");
    const { body } = await post("/v1/certificates", { csr: await makeCsr(frontendId), token, workload: "frontend-v1-0" });
    // Register only now, as a sidecar whose config stream is slower than its certificate request would.
    const session = http2.connect(baseUrl);
    session.on("error", () => {});
    const stream = session.request({ ":method": "POST", ":path": "/v1/stream" });
    stream.on("error", () => {});
    const node = {
      id: "frontend-v1-0",
      service: "frontend",
      namespace: "default",
      version: "v1",
      mode: "sidecar",
      labels: { app: "frontend" },
      address: "127.0.0.1:31001",
      inboundUrl: "http://127.0.0.1:31001",
      adminUrl: "http://127.0.0.1:31002",
      upstreams: [],
    };
    stream.write(encodeLine({ type: "hello", node }));
    try {
      const deadline = Date.now() + 10_000;
      let row: SidecarView | undefined;
      while (Date.now() < deadline) {
        const list = (await (await fetch(`${baseUrl}/v1/sidecars`)).json()) as SidecarView[];
        row = list.find((s) => s.id === "frontend-v1-0");
        if (row?.certExpiry) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(row?.certExpiry).toBe(body.expiresAt);
    } finally {
      session.destroy();
    }
  });

  it("reuses the root on restart", async () => {
    const before = (await (await fetch(`${baseUrl}/v1/ca`)).json()) as { rootFingerprint: string };
    await controlPlane.stop();
    controlPlane = await startControlPlane({ db: testDb.db, port: controlPlane.port, log: quiet, ca: settings() });
    const after = (await (await fetch(`${baseUrl}/v1/ca`)).json()) as { rootFingerprint: string };
    expect(after.rootFingerprint).toBe(before.rootFingerprint);
  });

  it("refuses to start with a root key other users can read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trellis-ca-loose-"));
    try {
      const first = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: { ...settings(), root: { kind: "dir", dir } } });
      await first.stop();
      chmodSync(join(dir, ROOT_KEY_FILE), 0o644);
      await expect(startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: { ...settings(), root: { kind: "dir", dir } } })).rejects.toThrow(
        `the mesh CA key ${join(dir, ROOT_KEY_FILE)} has permissions 0644, so other users can read it; run \`chmod 600 ${join(dir, ROOT_KEY_FILE)}\``,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("uses an operator's root given as two files", async () => {
    const first = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca: settings() });
    await first.stop();
    const operator = await startControlPlane({
      db: testDb.db,
      port: 0,
      log: quiet,
      ca: { ...settings(), root: { kind: "files", certFile: join(caDir, ROOT_CERT_FILE), keyFile: join(caDir, ROOT_KEY_FILE) } },
    });
    try {
      const described = (await (await fetch(`http://127.0.0.1:${operator.port}/v1/ca`)).json()) as { rootCertificate: string };
      expect(described.rootCertificate).toBe(readFileSync(join(caDir, ROOT_CERT_FILE), "utf8"));
    } finally {
      await operator.stop();
    }
  });
});
