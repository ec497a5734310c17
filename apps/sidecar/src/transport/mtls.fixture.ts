// Helpers for the mTLS integration tests: a recording app, requests over HTTP or HTTPS with a client certificate,
// a certificate from a foreign CA, and an impostor endpoint registered on the real config stream.
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type tls from "node:tls";
import { encodeLine, type NodeInfo } from "@trellis/mesh-config";
import type { IdentityMaterial } from "../identity/identity.ts";
import { ECDSA_P256, x509, type CryptoKeyPair } from "../identity/x509.ts";

export type Seen = { url: string; headers: http.IncomingHttpHeaders };
export type App = { port: number; seen: Seen[]; close: () => Promise<void> };
export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: string; reusedSocket: boolean; serial: string | null };

export async function startApp(name: string): Promise<App> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(name);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

/** A request over plain HTTP or (with `tls`) HTTPS; rejects when the connection is refused or cut. */
export function send(port: number, { path = "/", agent, tls: tlsOptions }: { path?: string; agent?: http.Agent; tls?: tls.ConnectionOptions } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const options = { host: "127.0.0.1", port, path, agent: agent ?? false };
    const secure = tlsOptions !== undefined || agent instanceof https.Agent;
    const req = secure ? https.request({ ...options, ...tlsOptions }) : http.request(options);
    req.on("response", (res) => {
      // Read now: a kept-alive socket leaves the response once it ends.
      const socket = res.socket as tls.TLSSocket | null;
      const serial = socket && "getPeerCertificate" in socket ? socket.getPeerCertificate().serialNumber : null;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, reusedSocket: req.reusedSocket, serial: serial ?? null });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** Client TLS options for the mesh port: a client certificate, and trust in `ca` only (the server's SAN is not a host). */
export function meshClient(material: Pick<IdentityMaterial, "certPem" | "keyPem" | "rootPem">, ca = material.rootPem): tls.ConnectionOptions {
  return { cert: material.certPem, key: material.keyPem, ca, checkServerIdentity: () => undefined, ALPNProtocols: ["http/1.1"] };
}

export { waitFor } from "../testing/mesh-test-kit.ts";

/** A root of our own and a leaf under it that claims frontend's SPIFFE ID: what a foreign mesh would present. */
export async function createForeignMaterial(spiffeId: string): Promise<{ certPem: string; keyPem: string; rootPem: string }> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 3_600_000);
  const rootKeys = (await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=Foreign Mesh Root",
    notBefore,
    notAfter,
    keys: rootKeys,
    signingAlgorithm: ECDSA_P256,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const leafKeys = (await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: "02",
    subject: "CN=frontend",
    issuer: root.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: ECDSA_P256,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: spiffeId }], true), new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"])],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
  return { certPem: leaf.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"), rootPem: root.toString("pem") };
}

/** Node prints serials upper-case without leading zeros; @peculiar/x509 lower-case, possibly with them. */
export const sameSerial = (a: string | null | undefined, b: string | null | undefined) => (a ?? "x").toLowerCase().replace(/^0+/, "") === (b ?? "y").toLowerCase().replace(/^0+/, "");

/**
 * Registers a workload of service `service` on the real config stream at `port`, without a sidecar behind it: the
 * control plane hands that address to callers as an endpoint of `service`.
 */
export function registerImpostor(controlPlaneUrl: string, service: string, port: number): () => void {
  const node: NodeInfo = {
    id: `${service}-impostor`,
    service,
    namespace: "default",
    version: "v1",
    mode: "sidecar",
    labels: { app: service, version: "v1" },
    address: `127.0.0.1:${port}`,
    inboundUrl: `http://127.0.0.1:${port}`,
    adminUrl: "http://127.0.0.1:9",
    upstreams: [],
  };
  const session = http2.connect(controlPlaneUrl);
  session.on("error", () => {});
  const stream = session.request({ ":method": "POST", ":path": "/v1/stream" });
  stream.on("error", () => {});
  stream.resume();
  stream.write(encodeLine({ type: "hello", node }));
  return () => session.destroy();
}
