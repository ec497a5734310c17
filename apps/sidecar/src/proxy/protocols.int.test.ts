// Protocols beyond HTTP/1.1 through two real sidecars and a real control plane with its CA (so the sidecar-to-sidecar
// hop is mTLS; see protocols.fixture.ts): gRPC (unary, server streaming, an error status in trailers) with
// @grpc/grpc-js, a plain h2c request, WebSocket echo with `ws`, TCP echo, and their telemetry.
import http2 from "node:http2";
import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { waitFor } from "../testing/mesh-test-kit.ts";
import {
  closers,
  frontend,
  grpcClient,
  grpcSidecar,
  mtlsAccepted,
  outboundPort,
  plaintextAccepted,
  prometheus,
  series,
  sidecars,
  start,
  tcpAppConnections,
  tcpSidecar,
  useProtocolsMesh,
  webSidecar,
  type Msg,
} from "./protocols.fixture.ts";

useProtocolsMesh();

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
    const client = grpcClient(lonely.ports.upstreams["nowhere-service"] ?? 0);
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
