import { describe, expect, it } from "vitest";
import { buildRequestLabels, buildTcpLabels, joinFlags, requestSeriesKey, sameRequestSeries } from "./labels.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";

describe("joinFlags", () => {
  it("is '-' with no flags and comma-joins several in order, as Envoy prints %RESPONSE_FLAGS%", () => {
    expect(joinFlags([])).toBe("-");
    expect(joinFlags(["UF"])).toBe("UF");
    expect(joinFlags(["UF", "URX"])).toBe("UF,URX");
  });
});

describe("buildRequestLabels", () => {
  it("names every Istio standard label from a complete record", () => {
    expect(buildRequestLabels(makeRequestRecord({ status: 503, flags: ["UO"] }))).toEqual({
      reporter: "source",
      source_workload: "checkout-v1-15000",
      source_workload_namespace: "shop",
      source_principal: "spiffe://trellis.local/ns/shop/sa/checkout",
      source_app: "checkout",
      source_version: "v1",
      source_canonical_service: "checkout",
      source_canonical_revision: "v1",
      destination_workload: "cart-v1-15001",
      destination_workload_namespace: "shop",
      destination_principal: "spiffe://trellis.local/ns/shop/sa/cart",
      destination_app: "cart",
      destination_version: "v1",
      destination_canonical_service: "cart",
      destination_canonical_revision: "v1",
      destination_service: "cart.shop.svc.cluster.local",
      destination_service_name: "cart",
      destination_service_namespace: "shop",
      connection_security_policy: "mutual_tls",
      request_protocol: "http",
      response_code: "503",
      grpc_response_status: "",
      response_flags: "UO",
    });
  });

  it("says 'unknown' for what is not known, 0 for no response, and keeps gRPC status", () => {
    const labels = buildRequestLabels(
      makeRequestRecord({ destination: null, sourcePrincipal: null, destinationPrincipal: null, mtls: false, status: null, protocol: "grpc", grpcStatus: 14, flags: ["DC"] }),
    );
    expect(labels).toMatchObject({
      destination_workload: "unknown",
      destination_workload_namespace: "unknown",
      destination_app: "unknown",
      destination_version: "unknown",
      destination_service: "cart",
      destination_service_namespace: "unknown",
      source_principal: "unknown",
      destination_principal: "unknown",
      connection_security_policy: "none",
      request_protocol: "grpc",
      response_code: "0",
      grpc_response_status: "14",
      response_flags: "DC",
    });
  });

  it("labels TCP connections with request_protocol tcp and no response code", () => {
    const labels = buildTcpLabels(makeTcpRecord());
    expect(labels).toMatchObject({ reporter: "destination", source_workload: "unknown", destination_app: "redis", request_protocol: "tcp", response_flags: "-" });
    expect(labels).not.toHaveProperty("response_code");
  });
});

describe("requestSeriesKey and sameRequestSeries", () => {
  const base = makeRequestRecord();
  const variants = () => [
    makeRequestRecord({ status: 503 }),
    makeRequestRecord({ status: null }),
    makeRequestRecord({ flags: ["UF"] }),
    makeRequestRecord({ flags: ["UF", "URX"] }),
    makeRequestRecord({ reporter: "destination" }),
    makeRequestRecord({ protocol: "grpc" }),
    makeRequestRecord({ mtls: false }),
    makeRequestRecord({ sourcePrincipal: null }),
    makeRequestRecord({ sourcePrincipal: "" }),
    makeRequestRecord({ destinationPrincipal: null }),
    makeRequestRecord({ destinationService: "cart-v2" }),
    makeRequestRecord({ grpcStatus: 0 }),
    makeRequestRecord({ source: null }),
    makeRequestRecord({ destination: { workload: "cart-v2", app: "cart", version: "v2", namespace: "shop" } }),
    makeRequestRecord({ destination: { workload: "cart-v1", app: "cart", version: "v1", namespace: "other" } }),
  ];

  it("agree with each other on every pair of records", () => {
    const records = [base, ...variants(), ...variants(), makeRequestRecord({ path: "/other", durationMs: 900 })];
    for (const a of records) for (const b of records) expect(sameRequestSeries(a, b)).toBe(requestSeriesKey(a) === requestSeriesKey(b));
  });

  it("differs whenever a label differs", () => {
    const keys = new Set([base, ...variants()].map(requestSeriesKey));
    expect(keys.size).toBe(variants().length + 1);
  });
});

describe("requestSeriesKey", () => {
  it("ignores what is not a label (path, timing, bytes, request id)", () => {
    const a = makeRequestRecord();
    const b = makeRequestRecord({ path: "/other", durationMs: 900, responseBytes: 1, requestId: "x", upstreamHost: "127.0.0.1:1" });
    expect(requestSeriesKey(a)).toBe(requestSeriesKey(b));
    expect(sameRequestSeries(a, b)).toBe(true);
  });
});
