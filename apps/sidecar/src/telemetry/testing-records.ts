// Hand-built records for telemetry tests: a complete outbound request and TCP connection, overridable per test.
import type { RequestRecord, TcpRecord } from "./records.ts";

export function makeRequestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    reporter: "source",
    protocol: "http",
    httpVersion: "HTTP/1.1",
    method: "GET",
    path: "/cart/42?coupon=x",
    authority: "cart",
    requestId: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    userAgent: "curl/8.5.0",
    startTimeMs: Date.UTC(2026, 10, 24, 12, 0, 0, 123),
    durationMs: 12.4,
    status: 200,
    grpcStatus: null,
    flags: [],
    requestBytes: 0,
    responseBytes: 1536,
    attempts: 1,
    upstreamHost: "127.0.0.1:15101",
    upstreamCluster: "cart|v1",
    routeName: "default",
    source: { workload: "checkout-v1-15000", app: "checkout", version: "v1", namespace: "shop" },
    destination: { workload: "cart-v1-15001", app: "cart", version: "v1", namespace: "shop" },
    destinationService: "cart",
    sourcePrincipal: "spiffe://trellis.local/ns/shop/sa/checkout",
    destinationPrincipal: "spiffe://trellis.local/ns/shop/sa/cart",
    mtls: true,
    ...overrides,
  };
}

export function makeTcpRecord(overrides: Partial<TcpRecord> = {}): TcpRecord {
  return {
    reporter: "destination",
    startTimeMs: Date.UTC(2026, 10, 24, 12, 0, 0, 0),
    durationMs: 1500.2,
    sentBytes: 300,
    receivedBytes: 120,
    flags: [],
    upstreamHost: "127.0.0.1:6379",
    upstreamCluster: "inbound|6379",
    source: null,
    destination: { workload: "redis-v1", app: "redis", version: "v1", namespace: "shop" },
    destinationService: "redis",
    sourcePrincipal: null,
    destinationPrincipal: null,
    mtls: false,
    ...overrides,
  };
}
