import { describe, expect, it } from "vitest";
import { parseConfigMessage, parseHello, parseSidecarReply, readVersionAndNonce } from "./protocol.ts";
import { createLineSplitter, encodeLine } from "./ndjson.ts";

const node = {
  id: "order-service-v1-15001",
  service: "order-service",
  namespace: "default",
  version: "v1",
  mode: "sidecar",
  labels: { app: "order-service", version: "v1" },
  address: "127.0.0.1:15101",
  inboundUrl: "http://127.0.0.1:15101",
  adminUrl: "http://127.0.0.1:15001",
  upstreams: ["catalog-service"],
};

describe("parseHello", () => {
  it("accepts a well-formed hello", () => {
    const result = parseHello(JSON.stringify({ type: "hello", node }));
    expect(result).toEqual({ ok: true, value: { type: "hello", node } });
  });

  it("says which field is wrong", () => {
    const result = parseHello(JSON.stringify({ type: "hello", node: { ...node, mode: "proxy", address: "nope" } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("invalid hello message");
    expect(result.error).toContain("node.mode");
    expect(result.error).toContain("node.address: must be host:port");
  });

  it("rejects a service name that is not a DNS label", () => {
    const result = parseHello(JSON.stringify({ type: "hello", node: { ...node, service: "Order_Service" } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("node.service: must be lowercase letters");
  });

  it("rejects a message that is not JSON", () => {
    const result = parseHello("{type: hello");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(/^hello message is not valid JSON/);
  });

  it("rejects an ack sent in place of a hello", () => {
    expect(parseHello(JSON.stringify({ type: "ack", version: 1, nonce: "n" })).ok).toBe(false);
  });
});

describe("parseSidecarReply", () => {
  it("accepts ack and nack", () => {
    expect(parseSidecarReply('{"type":"ack","version":3,"nonce":"abc"}')).toEqual({ ok: true, value: { type: "ack", version: 3, nonce: "abc" } });
    expect(parseSidecarReply('{"type":"nack","version":3,"nonce":"abc","error":"bad"}').ok).toBe(true);
  });

  it("rejects a nack without an error and a negative version", () => {
    expect(parseSidecarReply('{"type":"nack","version":3,"nonce":"abc"}').ok).toBe(false);
    expect(parseSidecarReply('{"type":"ack","version":-1,"nonce":"abc"}').ok).toBe(false);
  });
});

describe("parseConfigMessage", () => {
  const cluster = { service: "a", subset: null, endpoints: [], trafficPolicy: { loadBalancer: "ROUND_ROBIN" } };
  const snapshot = {
    service: "frontend",
    namespace: "default",
    clusters: { a: cluster },
    virtualHosts: [{ upstream: "a", routes: [{ match: [], destinations: [{ cluster: "a", weight: 100 }] }] }],
    inbound: { mtlsMode: "STRICT", authorization: [] },
    outboundMtls: { a: true },
  };

  it("accepts a config push", () => {
    expect(parseConfigMessage(JSON.stringify({ type: "config", version: 7, nonce: "n1", snapshot })).ok).toBe(true);
  });

  it("rejects a bad endpoint address, naming the path", () => {
    const bad = { ...snapshot, clusters: { a: { ...cluster, endpoints: [{ address: "localhost", workloadId: "w", version: "v1", labels: {} }] } } };
    const result = parseConfigMessage(JSON.stringify({ type: "config", version: 7, nonce: "n1", snapshot: bad }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain("snapshot.clusters.a.endpoints.0.address");
  });
});

describe("readVersionAndNonce", () => {
  it("recovers version and nonce from an otherwise invalid push", () => {
    expect(readVersionAndNonce('{"type":"config","version":4,"nonce":"x","snapshot":1}')).toEqual({ version: 4, nonce: "x" });
  });

  it("falls back to zeros for garbage", () => {
    expect(readVersionAndNonce("garbage")).toEqual({ version: 0, nonce: "" });
    expect(readVersionAndNonce('{"version":-2}')).toEqual({ version: 0, nonce: "" });
  });
});

describe("line splitter", () => {
  it("reassembles messages split across chunks and skips blank lines", () => {
    const splitter = createLineSplitter();
    const wire = encodeLine({ a: 1 }) + "\n" + encodeLine({ b: "x\ny" });
    const lines = [wire.slice(0, 3), wire.slice(3, 10), wire.slice(10)].flatMap((chunk) => splitter.push(chunk));
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([{ a: 1 }, { b: "x\ny" }]);
  });

  it("refuses a line longer than the bound", () => {
    const splitter = createLineSplitter(8);
    expect(() => splitter.push("0123456789")).toThrow(/longer than 8 characters/);
  });
});
