import { describe, expect, it } from "vitest";
import { toDownstreamHeaders, toUpstreamHeaders } from "./headers.ts";

describe("toUpstreamHeaders", () => {
  const generateRequestId = () => "generated-id";

  it("drops hop-by-hop headers, including those named in Connection", () => {
    const headers = toUpstreamHeaders(
      { host: "a", connection: "keep-alive, x-hop", "keep-alive": "timeout=5", "x-hop": "1", upgrade: "websocket", "x-app": "kept" },
      { remoteAddress: undefined, generateRequestId },
    );
    expect(headers).toEqual({ host: "a", "x-app": "kept", "x-request-id": "generated-id" });
  });

  it("appends the peer to x-forwarded-for", () => {
    expect(toUpstreamHeaders({}, { remoteAddress: "127.0.0.1", generateRequestId })["x-forwarded-for"]).toBe("127.0.0.1");
    expect(toUpstreamHeaders({ "x-forwarded-for": "10.0.0.1" }, { remoteAddress: "127.0.0.1", generateRequestId })["x-forwarded-for"]).toBe("10.0.0.1, 127.0.0.1");
  });

  it("keeps an incoming x-request-id and generates one when absent", () => {
    expect(toUpstreamHeaders({ "x-request-id": "abc" }, { remoteAddress: undefined, generateRequestId })["x-request-id"]).toBe("abc");
    expect(toUpstreamHeaders({}, { remoteAddress: undefined })["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("drops incoming trace headers (the hop injects its own)", () => {
    const headers = toUpstreamHeaders({ traceparent: "00-1-2-01", tracestate: "a=b" }, { remoteAddress: undefined, generateRequestId });
    expect(headers.traceparent).toBeUndefined();
    expect(headers.tracestate).toBeUndefined();
  });

  it("re-chunks a chunked body and leaves a sized one alone", () => {
    expect(toUpstreamHeaders({ "transfer-encoding": "chunked" }, { remoteAddress: undefined, generateRequestId })["transfer-encoding"]).toBe("chunked");
    const sized = toUpstreamHeaders({ "content-length": "3" }, { remoteAddress: undefined, generateRequestId });
    expect(sized["transfer-encoding"]).toBeUndefined();
    expect(sized["content-length"]).toBe("3");
  });
});

describe("toDownstreamHeaders", () => {
  it("keeps end-to-end headers, including repeated set-cookie", () => {
    expect(toDownstreamHeaders({ "set-cookie": ["a=1", "b=2"], connection: "close", "transfer-encoding": "chunked", "content-type": "text/plain" })).toEqual({
      "set-cookie": ["a=1", "b=2"],
      "content-type": "text/plain",
    });
  });
});
