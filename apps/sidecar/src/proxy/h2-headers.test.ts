import { describe, expect, it } from "vitest";
import { grpcStatusForHttp, grpcToHttpStatus, isGrpc, localReplyH2Headers, toDownstreamH2Headers, toUpstreamH2Headers } from "./h2-headers.ts";

describe("HTTP/2 header hygiene", () => {
  it("keeps pseudo-headers and te: trailers, drops connection-specific and trace headers, sets forwarding headers", () => {
    const headers = toUpstreamH2Headers(
      {
        ":method": "POST",
        ":path": "/echo.Echo/Say",
        ":authority": "127.0.0.1:9301",
        ":scheme": "http",
        te: "trailers",
        connection: "keep-alive",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        upgrade: "h2c",
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate: "a=b",
        "content-type": "application/grpc",
        "x-forwarded-for": "10.0.0.1",
      },
      "127.0.0.1",
      () => "req-1",
    );
    expect(headers).toEqual({
      ":method": "POST",
      ":path": "/echo.Echo/Say",
      ":authority": "127.0.0.1:9301",
      ":scheme": "http",
      te: "trailers",
      "content-type": "application/grpc",
      "x-forwarded-for": "10.0.0.1, 127.0.0.1",
      "x-request-id": "req-1",
    });
  });

  it("drops a te other than trailers and keeps the caller's request id", () => {
    const headers = toUpstreamH2Headers({ ":path": "/", te: "gzip", "x-request-id": "mine" }, undefined);
    expect(headers).toEqual({ ":path": "/", "x-request-id": "mine" });
  });

  it("passes response headers and trailers back without connection-specific ones", () => {
    expect(toDownstreamH2Headers({ "grpc-status": "0", connection: "close", "content-type": "application/grpc" })).toEqual({
      "grpc-status": "0",
      "content-type": "application/grpc",
    });
  });

  it("tells gRPC by content type", () => {
    expect(isGrpc({ "content-type": "application/grpc+proto" })).toBe(true);
    expect(isGrpc({ "content-type": "application/json" })).toBe(false);
    expect(isGrpc({})).toBe(false);
  });

  it("maps local-reply statuses to gRPC codes as Envoy does", () => {
    expect([400, 401, 403, 404, 429, 502, 503, 504, 500].map(grpcStatusForHttp)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2]);
  });

  it("answers gRPC callers trailers-only and others with a plain status", () => {
    const reply = { status: 503, flag: "UH" as const, body: "no healthy upstream: cluster \"x\" has no endpoints\n" };
    expect(localReplyH2Headers(reply, true)).toEqual({
      ":status": 200,
      "content-type": "application/grpc",
      "grpc-status": "14",
      "grpc-message": encodeURIComponent('no healthy upstream: cluster "x" has no endpoints'),
      "x-trellis-response-flags": "UH",
    });
    expect(localReplyH2Headers(reply, false)).toMatchObject({ ":status": 503, "content-length": Buffer.byteLength(reply.body), "x-trellis-response-flags": "UH" });
  });
});

describe("grpcToHttpStatus", () => {
  it("counts gRPC statuses as Envoy does for outlier detection", () => {
    expect([0, 1, 2, 4, 8, 13, 14, 16, 99].map(grpcToHttpStatus)).toEqual([200, 499, 500, 504, 429, 500, 503, 401, 500]);
  });
});
