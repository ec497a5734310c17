// The mesh the protocol tests run against: a frontend sidecar with an HTTP forward-proxy port, and behind real
// sidecars a gRPC app, an HTTP/1 + h2c + WebSocket app and a TCP echo app, all joined to a real control plane with
// its CA (so the sidecar-to-sidecar hop is mTLS). A test file calls useProtocolsMesh() once; vitest gives each file
// its own copy of this module, so each file gets its own mesh.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll } from "vitest";
import { WebSocketServer } from "ws";
import { startControlPlane, type CaSettings, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import type { SidecarModeOptions } from "../options.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import { acceptH2c } from "./h2-listener.ts";
import { quiet, waitFor } from "../testing/mesh-test-kit.ts";

const secret = "protocols-test-secret-0123456789abcdef";

const PROTO = `
syntax = "proto3";
package echo;
service Echo {
  rpc Say (Msg) returns (Msg);
  rpc Count (Msg) returns (stream Msg);
  rpc Fail (Msg) returns (Msg);
}
message Msg { string text = 1; int32 n = 2; }
`;
export type Msg = { text: string; n: number };
export type EchoClient = grpc.Client & {
  Say: (msg: Partial<Msg>, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void;
  Count: (msg: Partial<Msg>) => grpc.ClientReadableStream<Msg>;
  Fail: (msg: Partial<Msg>, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void;
};

let testDb: TestDatabase;
let caDir: string;
export let controlPlane: ControlPlane;
export let controlPlaneUrl: string;
export const sidecars: Sidecar[] = [];
export const closers: Array<() => Promise<void> | void> = [];
export let frontend: Sidecar;
export let grpcSidecar: Sidecar;
export let webSidecar: Sidecar;
export let tcpSidecar: Sidecar;
let EchoService: grpc.ServiceClientConstructor;
/** What the web app received over HTTP/1.1 (to prove bad input never reaches it). */
export const webSeen: string[] = [];
export const tcpAppConnections = { count: 0 };

async function mintToken(service: string): Promise<string> {
  const response = await fetch(`${controlPlaneUrl}/v1/join-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ namespace: "default", service }),
  });
  if (response.status !== 200) throw new Error(`join token for ${service}: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

export async function start(options: Pick<SidecarModeOptions, "service" | "appPort" | "upstreams" | "appTcpPort" | "httpProxyPort"> & { workload?: string }): Promise<Sidecar> {
  const sidecar = await startSidecar({
    mode: "sidecar",
    namespace: "default",
    version: "v1",
    workload: options.workload ?? `${options.service}-0`,
    adminPort: 0,
    inboundPort: 0,
    controlPlaneUrl,
    otlpEndpoint: "http://127.0.0.1:9",
    joinToken: await mintToken(options.service),
    log: quiet,
    ...options,
  });
  sidecars.push(sidecar);
  return sidecar;
}


const listenOn = (server: net.Server) => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

/** A gRPC app (grpc-js, h2c): Say echoes, Count streams n messages, Fail answers FAILED_PRECONDITION with trailers. */
async function startGrpcApp(): Promise<number> {
  const server = new grpc.Server();
  server.addService(EchoService.service, {
    Say: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => callback(null, { text: `echo:${call.request.text}`, n: call.request.n }),
    Count: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      for (let i = 1; i <= call.request.n; i += 1) call.write({ text: `${call.request.text}-${i}`, n: i });
      call.end();
    },
    Fail: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      const metadata = new grpc.Metadata();
      metadata.set("x-reason", "out-of-stock");
      callback({ code: grpc.status.FAILED_PRECONDITION, details: `no stock for ${call.request.text}`, metadata });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  closers.push(() => void server.forceShutdown());
  return port;
}

/** A web app: HTTP/1.1 answers with what it saw, h2c streams echo their body with a trailer, WebSocket echoes. */
async function startWebApp(): Promise<number> {
  const server = http.createServer((req, res) => {
    webSeen.push(`${req.method ?? ""} ${req.url ?? ""}`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ url: req.url, host: req.headers.host }));
  });
  acceptH2c(server, (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      stream.respond({ ":status": 201, "content-type": "application/json", "x-app": "web" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-checksum": String(Buffer.concat(chunks).length) }));
      stream.end(JSON.stringify({ path: headers[":path"], body: Buffer.concat(chunks).toString(), requestId: headers["x-request-id"], traceparent: headers.traceparent }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket, req) => socket.on("message", (data, isBinary) => socket.send(isBinary ? data : `echo(${req.url ?? ""}):${String(data)}`, { binary: isBinary })));
  const port = await listenOn(server);
  closers.push(() => new Promise<void>((resolve) => (wss.close(), server.closeAllConnections(), server.close(() => resolve()))));
  return port;
}

async function startTcpEchoApp(): Promise<number> {
  const server = net.createServer((socket) => {
    tcpAppConnections.count += 1;
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  const port = await listenOn(server);
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return port;
}

/** Starts the mesh before this file's tests and stops it after them. */
export function useProtocolsMesh(): void {
  beforeAll(async () => {
    caDir = mkdtempSync(join(tmpdir(), "trellis-protocols-"));
    const protoPath = join(caDir, "echo.proto");
    writeFileSync(protoPath, PROTO);
    const definition = grpc.loadPackageDefinition(await protoLoader.load(protoPath, { defaults: true })) as unknown as { echo: { Echo: grpc.ServiceClientConstructor } };
    EchoService = definition.echo.Echo;

    testDb = await createTestDatabase();
    const ca: CaSettings = { root: { kind: "dir", dir: join(caDir, "ca") }, trustDomain: "cluster.local", certTtlMs: 3_600_000, joinSecret: secret };
    controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: quiet, ca });
    controlPlaneUrl = `http://127.0.0.1:${controlPlane.port}`;

    grpcSidecar = await start({ service: "grpc-service", appPort: await startGrpcApp(), upstreams: [] });
    webSidecar = await start({ service: "web-service", appPort: await startWebApp(), upstreams: [] });
    tcpSidecar = await start({ service: "tcp-service", appPort: 9, appTcpPort: await startTcpEchoApp(), upstreams: [] });
    frontend = await start({
      service: "frontend",
      appPort: 9,
      httpProxyPort: 0,
      upstreams: [
        { service: "grpc-service", port: 0 },
        { service: "web-service", port: 0 },
        { service: "tcp-service", port: 0, protocol: "tcp" },
      ],
    });
    // Ready means a config and a certificate: the hops below are mTLS from the first request.
    for (const sidecar of sidecars) {
      await waitFor(`${sidecar.node.id} ready`, async () => (await fetch(`http://127.0.0.1:${sidecar.ports.admin}/ready`)).status, (status) => status === 200);
    }
    await waitFor(
      "frontend to see every upstream's endpoint",
      async () => (await (await fetch(`http://127.0.0.1:${frontend.ports.admin}/config_dump`)).json()) as { snapshot: { clusters: Record<string, { endpoints: unknown[] }> } | null },
      (dump) => ["grpc-service", "web-service", "tcp-service"].every((name) => (dump.snapshot?.clusters[name]?.endpoints.length ?? 0) > 0),
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sidecars.map((sidecar) => sidecar.stop()));
    for (const close of closers) await close();
    await controlPlane?.stop();
    await testDb?.drop();
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  });
}

export const mtlsAccepted = (sidecar: Sidecar) => sidecar.inbound?.stats().mtlsAccepted ?? 0;
export const plaintextAccepted = (sidecar: Sidecar) => sidecar.inbound?.stats().plaintextAccepted ?? 0;
export const outboundPort = (service: string) => frontend.ports.upstreams[service] ?? 0;

export const prometheus = async (sidecar: Sidecar) => (await fetch(`http://127.0.0.1:${sidecar.ports.admin}/stats/prometheus`)).text();
/** The series of `metric` whose labels include every `label="value"` given. */
export const series = (text: string, metric: string, labels: string[]) => text.split("\n").filter((line) => line.startsWith(`${metric}{`) && labels.every((label) => line.includes(label)));

/** An echo client on the frontend's outbound listener for grpc-service, or on `port`; closed after the tests. */
export function grpcClient(port = outboundPort("grpc-service")): EchoClient {
  const client = new EchoService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  closers.push(() => client.close());
  return client;
}
