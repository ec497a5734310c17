import { describe, expect, it } from "vitest";
import { buildRequestAttributes, buildTcpAttributes, formatRequestLine, formatTcpLine, severityOf } from "./access-log.ts";
import { makeRequestRecord, makeTcpRecord } from "./testing-records.ts";

describe("formatRequestLine", () => {
  it("writes Istio's default TEXT format, '-' for what is unknown", () => {
    expect(formatRequestLine(makeRequestRecord())).toBe(
      '[2026-11-24T12:00:00.123Z] "GET /cart/42?coupon=x HTTP/1.1" 200 - - - "-" 0 1536 12 - "-" "curl/8.5.0" ' +
        '"7c9e6679-7425-40de-944b-e07fc1f90ae7" "cart" "127.0.0.1:15101" cart|v1 - - - - default',
    );
  });

  it("prints flags, no response as 0, and the optional fields when the data path knows them", () => {
    const line = formatRequestLine(
      makeRequestRecord({
        status: null,
        flags: ["UT", "URX"],
        userAgent: null,
        requestId: null,
        upstreamHost: null,
        routeName: null,
        responseCodeDetails: "upstream_response_timeout",
        upstreamServiceTimeMs: 7,
        xForwardedFor: "10.0.0.1",
        downstreamLocalAddress: "127.0.0.1:15001",
        downstreamRemoteAddress: "127.0.0.1:53110",
        upstreamLocalAddress: "127.0.0.1:53112",
        requestedServerName: "cart.shop",
      }),
    );
    expect(line).toBe(
      '[2026-11-24T12:00:00.123Z] "GET /cart/42?coupon=x HTTP/1.1" 0 UT,URX upstream_response_timeout - "-" 0 1536 12 7 "10.0.0.1" "-" "-" "cart" "-" ' +
        "cart|v1 127.0.0.1:53112 127.0.0.1:15001 127.0.0.1:53110 cart.shop -",
    );
  });

  it("writes TCP connections in the same format with the HTTP operators as '-'", () => {
    expect(formatTcpLine(makeTcpRecord({ flags: ["UF"] }))).toBe(
      '[2026-11-24T12:00:00.000Z] "- - -" 0 UF - - "-" 120 300 1500 - "-" "-" "-" "-" "127.0.0.1:6379" inbound|6379 - - - - -',
    );
  });
});

describe("access-log attributes", () => {
  it("carry Istio's JSON field names plus reporter, attempts and workloads", () => {
    expect(buildRequestAttributes(makeRequestRecord({ attempts: 3, flags: ["URX"], status: 503 }))).toEqual({
      "log.type": "access",
      method: "GET",
      path: "/cart/42?coupon=x",
      protocol: "HTTP/1.1",
      request_protocol: "http",
      response_code: 503,
      response_flags: "URX",
      bytes_received: 0,
      bytes_sent: 1536,
      duration: 12,
      authority: "cart",
      attempt_count: 3,
      reporter: "source",
      source_workload: "checkout-v1-15000",
      source_namespace: "shop",
      destination_workload: "cart-v1-15001",
      destination_namespace: "shop",
      destination_service_name: "cart",
      connection_security_policy: "mutual_tls",
      user_agent: "curl/8.5.0",
      request_id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
      upstream_host: "127.0.0.1:15101",
      upstream_cluster: "cart|v1",
      route_name: "default",
      source_principal: "spiffe://trellis.local/ns/shop/sa/checkout",
      destination_principal: "spiffe://trellis.local/ns/shop/sa/cart",
    });
    expect(buildTcpAttributes(makeTcpRecord())).toMatchObject({ request_protocol: "tcp", bytes_received: 120, bytes_sent: 300, source_workload: "unknown" });
  });

  it("are WARN for 5xx and no response, INFO otherwise", () => {
    // OpenTelemetry's SeverityNumber: INFO 9, WARN 13.
    expect(severityOf(200)).toEqual({ severityNumber: 9, severityText: "INFO" });
    expect(severityOf(404).severityNumber).toBe(9);
    expect(severityOf(503)).toEqual({ severityNumber: 13, severityText: "WARN" });
    expect(severityOf(null).severityNumber).toBe(13);
  });
});

describe("the start time in the line", () => {
  it("is new Date(ms).toISOString() for times within one second and across seconds, days and years", () => {
    const times = [Date.UTC(2026, 10, 24, 12, 0, 0, 0), Date.UTC(2026, 10, 24, 12, 0, 0, 7), Date.UTC(2026, 10, 24, 12, 0, 0, 42), Date.UTC(2026, 10, 24, 12, 0, 0, 999), Date.UTC(2026, 10, 24, 12, 0, 1, 5), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2027, 0, 1, 0, 0, 0, 0), 1767225600123.75, 0];
    for (const ms of times) expect(formatTcpLine(makeTcpRecord({ startTimeMs: ms })).slice(1, 25)).toBe(new Date(ms).toISOString());
  });
});
