// The HTTP forward proxy routing by host, and bad input refused with 400/431 DPE on every HTTP/1 listener before
// anything reaches the app, through real sidecars and a real control plane (see protocols.fixture.ts).
import http from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { frontend, outboundPort, useProtocolsMesh, webSeen, webSidecar } from "./protocols.fixture.ts";

useProtocolsMesh();

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
