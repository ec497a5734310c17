// Protocols beyond HTTP/1.1 through two real sidecars and a real control plane with its CA (so the sidecar-to-sidecar
// hop is mTLS): gRPC (unary, server streaming, an error status in trailers) with @grpc/grpc-js, a plain h2c request,
// WebSocket echo with `ws`, TCP echo, the HTTP forward proxy routing by host, and bad input refused with 400/431 DPE
// before anything reaches the app.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { startControlPlane, type CaSettings, type ControlPlane } from "@trellis/control-plane";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import type { SidecarModeOptions } from "../options.ts";
import { startSidecar, type Sidecar } from "../sidecar.ts";
import { acceptH2c } from "./h2-listener.ts";

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
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
type Msg = { text: string; n: number };
type EchoClient = grpc.Client & {
  Say: (msg: Partial<Msg>, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void;
  Count: (msg: Partial<Msg>) => grpc.ClientReadableStream<Msg>;
  Fail: (msg: Partial<Msg>, callback: (error: grpc.ServiceError | null, reply?: Msg) => void) => void;
};

let testDb: TestDatabase;
let caDir: string;
let controlPlane: ControlPlane;
let controlPlaneUrl: string;
const sidecars: Sidecar[] = [];
const closers: Array<() => Promise<void> | void> = [];
let frontend: Sidecar;
let grpcSidecar: Sidecar;
let webSidecar: Sidecar;
let tcpSidecar: Sidecar;
let EchoService: grpc.ServiceClientConstructor;
/** What the web app received over HTTP/1.1 (to prove bad input never reaches it). */
const webSeen: string[] = [];
const tcpAppConnections = { count: 0 };

async function mintToken(service: string): Promise<string> {
  const response = await fetch(`${controlPlaneUrl}/v1/join-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}` },
    body: JSON.stringify({ namespace: "default", service }),
  });
  if (response.status !== 200) throw new Error(`join token for ${service}: ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

async function start(options: Pick<SidecarModeOptions, "service" | "appPort" | "upstreams" | "appTcpPort" | "httpProxyPort"> & { workload?: string }): Promise<Sidecar> {
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

async function waitFor<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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

const mtlsAccepted = (sidecar: Sidecar) => sidecar.inbound?.stats().mtlsAccepted ?? 0;
const plaintextAccepted = (sidecar: Sidecar) => sidecar.inbound?.stats().plaintextAccepted ?? 0;
const outboundPort = (service: string) => frontend.ports.upstreams[service] ?? 0;

const prometheus = async (sidecar: Sidecar) => (await fetch(`http://127.0.0.1:${sidecar.ports.admin}/stats/prometheus`)).text();
/** The series of `metric` whose labels include every `label="value"` given. */
const series = (text: string, metric: string, labels: string[]) => text.split("\n").filter((line) => line.startsWith(`${metric}{`) && labels.every((label) => line.includes(label)));

function grpcClient(): EchoClient {
  const client = new EchoService(`127.0.0.1:${outboundPort("grpc-service")}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  closers.push(() => client.close());
  return client;
}

describe("gRPC through two sidecars (h2c from the app, h2 over mTLS between sidecars)", () => {
  it("carries a unary call and a server stream, over mTLS", async () => {
    const tlsBefore = mtlsAccepted(grpcSidecar);
    const plainBefore = plaintextAccepted(grpcSidecar);
    const client = grpcClient();
    const reply = await new Promise<Msg | undefined>((resolve, reject) => client.Say({ text: "hi", n: 7 }, (error, msg) => (error ? reject(error) : resolve(msg))));
    expect(reply).toEqual({ text: "echo:hi", n: 7 });

    const received: Msg[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.Count({ text: "tick", n: 5 });
      call.on("data", (msg: Msg) => received.push(msg));
      call.on("error", reject);
      call.on("end", resolve);
    });
    expect(received).toEqual([1, 2, 3, 4, 5].map((n) => ({ text: `tick-${n}`, n })));
    // One multiplexed h2 session carries both calls, and it is mutual TLS.
    expect(mtlsAccepted(grpcSidecar)).toBe(tlsBefore + 1);
    expect(plaintextAccepted(grpcSidecar)).toBe(plainBefore);
  });

  it("delivers a non-OK grpc-status, its message and trailing metadata intact", async () => {
    const client = grpcClient();
    const error = await new Promise<grpc.ServiceError>((resolve, reject) => client.Fail({ text: "sku-42" }, (err) => (err ? resolve(err) : reject(new Error("Fail succeeded")))));
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.details).toBe("no stock for sku-42");
    expect(error.metadata.get("x-reason")).toEqual(["out-of-stock"]);
  });

  it("answers a call to an upstream without endpoints as UNAVAILABLE with the proxy's reason", async () => {
    const lonely = await start({ service: "lonely", appPort: 9, upstreams: [{ service: "nowhere-service", port: 0 }] });
    await waitFor("lonely ready", async () => (await fetch(`http://127.0.0.1:${lonely.ports.admin}/ready`)).status, (status) => status === 200);
    const client = new EchoService(`127.0.0.1:${lonely.ports.upstreams["nowhere-service"] ?? 0}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
    closers.push(() => client.close());
    const error = await new Promise<grpc.ServiceError>((resolve, reject) => client.Say({ text: "x" }, (err) => (err ? resolve(err) : reject(new Error("Say succeeded")))));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toContain('cluster "nowhere-service" has no endpoints');
    expect(error.metadata.get("x-trellis-response-flags")).toEqual(["UH"]);
  });
});


describe("gRPC connect failures", () => {
  it("retries a connect failure on a fresh pick (Istio's default policy), so no call fails", async () => {
    // A second grpc-service endpoint that stays registered but whose mesh port no longer accepts connections.
    const dead = await start({ service: "grpc-service", workload: "grpc-service-dead", appPort: 9, upstreams: [] });
    await waitFor(
      "frontend to see both grpc-service endpoints",
      async () => (await (await fetch(`http://127.0.0.1:${frontend.ports.admin}/config_dump`)).json()) as { snapshot: { clusters: Record<string, { endpoints: unknown[] }> } | null },
      (dump) => dump.snapshot?.clusters["grpc-service"]?.endpoints.length === 2,
    );
    await dead.inbound?.close(0);
    const client = grpcClient();
    const replies: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      replies.push(await new Promise<string>((resolve, reject) => client.Say({ text: `r${i}` }, (error, msg) => (error ? reject(error) : resolve(msg?.text ?? "")))));
    }
    expect(replies).toEqual(["echo:r0", "echo:r1", "echo:r2", "echo:r3"]);
    const text = await prometheus(frontend);
    expect(series(text, "trellis_upstream_events_total", ['cluster_name="grpc-service"', 'event="retry"'])).not.toEqual([]);
    await dead.stop();
    sidecars.splice(sidecars.indexOf(dead), 1);
  });
});

describe("HTTP/2 through two sidecars", () => {
  it("forwards an h2c request with its body, response trailers, request id and trace context", async () => {
    const session = http2.connect(`http://127.0.0.1:${outboundPort("web-service")}`);
    closers.push(() => void session.close());
    const stream = session.request({ ":method": "POST", ":path": "/h2/items?x=1", "content-type": "text/plain" });
    stream.end("payload over h2");
    const { headers, trailers, body } = await new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      let body = "";
      stream.setEncoding("utf8");
      stream.on("response", (h) => (headers = h));
      stream.on("trailers", (t) => (trailers = t));
      stream.on("data", (chunk: string) => (body += chunk));
      stream.on("end", () => resolve({ headers, trailers, body }));
      stream.on("error", reject);
    });
    expect(headers[":status"]).toBe(201);
    expect(headers["x-app"]).toBe("web");
    expect(trailers["x-checksum"]).toBe(String("payload over h2".length));
    const seen = JSON.parse(body) as { path: string; body: string; requestId: string; traceparent: string };
    expect(seen).toMatchObject({ path: "/h2/items?x=1", body: "payload over h2" });
    expect(seen.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });
});

describe("WebSocket through two sidecars", () => {
  it("upgrades and echoes text and binary frames both ways, over mTLS", async () => {
    const tlsBefore = mtlsAccepted(webSidecar);
    const socket = new WebSocket(`ws://127.0.0.1:${outboundPort("web-service")}/chat?room=1`);
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on("open", () => {
        socket.send("hello");
        socket.send(Buffer.from([1, 2, 3]));
      });
      socket.on("message", (data, isBinary) => {
        messages.push(isBinary ? `binary:${[...(data as Buffer)].join(",")}` : String(data));
        if (messages.length === 2) resolve();
      });
      socket.on("error", reject);
    });
    socket.close();
    expect(messages).toEqual(["echo(/chat?room=1):hello", "binary:1,2,3"]);
    expect(mtlsAccepted(webSidecar)).toBe(tlsBefore + 1);
  });

  it("answers an upgrade that no route takes with 404 NR", async () => {
    const proxy = frontend.ports.httpProxy ?? 0;
    const socket = new WebSocket(`ws://127.0.0.1:${proxy}/`, { headers: { host: "unknown-service" } });
    const status = await new Promise<number>((resolve) => socket.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
  });
});

describe("TCP pass-through through two sidecars", () => {
  it("pipes bytes both ways to the app's TCP port over mTLS", async () => {
    const tlsBefore = mtlsAccepted(tcpSidecar);
    const connectionsBefore = tcpAppConnections.count;
    const socket = net.connect(outboundPort("tcp-service"), "127.0.0.1");
    const echoed = await new Promise<string>((resolve, reject) => {
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        text += chunk;
        if (text.length >= 11) resolve(text);
      });
      socket.on("error", reject);
      socket.write("hello ");
      socket.write("world");
    });
    socket.end();
    expect(echoed).toBe("hello world");
    expect(tcpAppConnections.count).toBe(connectionsBefore + 1);
    expect(mtlsAccepted(tcpSidecar)).toBe(tlsBefore + 1);
  });
});

type Raw = { status: number; headers: http.IncomingHttpHeaders; body: string };

function proxyRequest(path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: frontend.ports.httpProxy ?? 0, path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("HTTP forward proxy (HTTP_PROXY)", () => {
  it("routes absolute-form requests and Host headers to the named upstream", async () => {
    const absolute = await proxyRequest("http://web-service/fp/a?x=1");
    expect(absolute.status).toBe(200);
    expect(JSON.parse(absolute.body)).toMatchObject({ url: "/fp/a?x=1" });
    const byHost = await proxyRequest("/fp/b", { host: "web-service.default.svc.cluster.local:80" });
    expect(byHost.status).toBe(200);
    expect(JSON.parse(byHost.body)).toMatchObject({ url: "/fp/b" });
  });

  it("answers an unknown host with 404 NR listing the known upstreams", async () => {
    const response = await proxyRequest("http://billing-service/x");
    expect(response.status).toBe(404);
    expect(response.headers["x-trellis-response-flags"]).toBe("NR");
    expect(response.body).toContain('"billing-service" is not an upstream of this sidecar; known upstreams: grpc-service, tcp-service, web-service');
  });
});

/** Writes raw bytes and reads everything until the server closes the connection. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
    socket.setTimeout(10_000, () => reject(new Error(`the sidecar kept the connection open; got: ${text.slice(0, 200)}`)));
    socket.write(bytes);
  });
}

describe("bad input", () => {
  const cases: Array<[string, number, string]> = [
    ["Content-Length with Transfer-Encoding", 400, "POST /bad HTTP/1.1\r\nHost: web-service\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"],
    ["two different Content-Lengths", 400, "POST /bad HTTP/1.1\r\nHost: web-service\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"],
    ["a malformed request line", 400, "GET /bad HTTP/9.9 extra\r\nHost: web-service\r\n\r\n"],
    ["a header without a colon", 400, "GET /bad HTTP/1.1\r\nHost web-service\r\n\r\n"],
    ["oversized headers", 431, `GET /bad HTTP/1.1\r\nHost: web-service\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`],
  ];

  it.each(cases)("refuses %s with %i DPE and closes, on outbound, forward-proxy and inbound listeners", async (_what, status, bytes) => {
    const seenBefore = webSeen.length;
    const ports = [outboundPort("web-service"), frontend.ports.httpProxy ?? 0, webSidecar.ports.inbound ?? 0];
    for (const port of ports) {
      const answer = await rawExchange(port, bytes);
      expect(answer.startsWith(`HTTP/1.1 ${status} `), answer.slice(0, 200)).toBe(true);
      expect(answer.toLowerCase()).toContain("connection: close");
      expect(answer.toLowerCase()).toContain("x-trellis-response-flags: dpe");
    }
    // A good request afterwards still works, and the app has seen only that one.
    const good = await proxyRequest("http://web-service/good");
    expect(good.status).toBe(200);
    expect(webSeen.slice(seenBefore)).toEqual(["GET /good"]);
  });
});

describe("gRPC and TCP telemetry", () => {
  it("reports gRPC calls as request_protocol grpc with their grpc-status on both sides, WebSocket and TCP as TCP connections", async () => {
    const source = await waitFor(
      "the frontend's gRPC series",
      () => prometheus(frontend),
      (text) => series(text, "istio_requests_total", ['reporter="source"', 'request_protocol="grpc"', 'grpc_response_status="9"', 'destination_service_name="grpc-service"']).length > 0,
    );
    expect(series(source, "istio_requests_total", ['request_protocol="grpc"', 'grpc_response_status="0"', 'response_code="200"', 'connection_security_policy="mutual_tls"'])).not.toEqual([]);
    const destination = await waitFor("the grpc sidecar's series", () => prometheus(grpcSidecar), (text) => series(text, "istio_requests_total", ['reporter="destination"', 'request_protocol="grpc"', 'source_workload="frontend-0"']).length > 0);
    expect(series(destination, "istio_requests_total", ['reporter="destination"', 'grpc_response_status="9"'])).not.toEqual([]);
    // The WebSocket, after its upgrade, counts as a TCP connection on the destination, with its mTLS source.
    await waitFor("the WebSocket's TCP series", () => prometheus(webSidecar), (text) => series(text, "istio_tcp_received_bytes_total", ['reporter="destination"', 'source_workload="frontend-0"', 'connection_security_policy="mutual_tls"']).length > 0);
    await waitFor("the TCP bytes", () => prometheus(frontend), (text) => series(text, "istio_tcp_sent_bytes_total", ['destination_service_name="tcp-service"']).some((line) => / (\d+)$/.exec(line)?.[1] === "11"));
  });
});
