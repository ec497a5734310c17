import { describe, expect, it } from "vitest";
import { readEnv } from "./env.ts";

describe("sidecar env", () => {
  it("reads sidecar mode with defaults and a derived workload id", () => {
    const options = readEnv({ TRELLIS_SERVICE: "frontend", TRELLIS_APP_PORT: "8001", TRELLIS_INBOUND_PORT: "15101", TRELLIS_UPSTREAMS: "catalog-service=9301" });
    expect(options).toMatchObject({
      mode: "sidecar",
      service: "frontend",
      namespace: "default",
      version: "v1",
      workload: "frontend-v1-15000",
      appPort: 8001,
      inboundPort: 15101,
      adminPort: 15000,
      upstreams: [{ service: "catalog-service", port: 9301 }],
      controlPlaneUrl: "http://127.0.0.1:15010",
      otlpEndpoint: "http://127.0.0.1:4318",
    });
  });

  it("reads gateway mode", () => {
    expect(readEnv({ TRELLIS_SERVICE: "gateway", TRELLIS_MODE: "gateway", TRELLIS_GATEWAY_ROUTE: "frontend" })).toMatchObject({
      mode: "gateway",
      gatewayHost: "127.0.0.1",
      gatewayPort: 8080,
      route: "frontend",
    });
  });

  it.each([
    [{}, /TRELLIS_SERVICE/],
    [{ TRELLIS_SERVICE: "frontend" }, /needs TRELLIS_APP_PORT .* and TRELLIS_INBOUND_PORT/],
    [{ TRELLIS_SERVICE: "gw", TRELLIS_MODE: "gateway" }, /TRELLIS_GATEWAY_ROUTE is required/],
    [{ TRELLIS_SERVICE: "frontend", TRELLIS_APP_PORT: "8001", TRELLIS_INBOUND_PORT: "15101", TRELLIS_UPSTREAMS: "catalog" }, /entry "catalog" must look like/],
    [{ TRELLIS_SERVICE: "frontend", TRELLIS_APP_PORT: "8001", TRELLIS_INBOUND_PORT: "8001" }, /TRELLIS_APP_PORT and TRELLIS_INBOUND_PORT are both 8001/],
    [{ TRELLIS_SERVICE: "frontend", TRELLIS_MODE: "proxy" }, /TRELLIS_MODE/],
    [{ TRELLIS_SERVICE: "frontend", TRELLIS_APP_PORT: "", TRELLIS_INBOUND_PORT: "15101" }, /needs TRELLIS_APP_PORT/],
  ])("refuses %j with a clear message", (env, message) => {
    expect(() => readEnv(env)).toThrow(message);
  });
});

describe("sidecar env: telemetry", () => {
  const base = { TRELLIS_SERVICE: "frontend", TRELLIS_APP_PORT: "8001", TRELLIS_INBOUND_PORT: "15101" };

  it("defaults to sampling every trace, a 10 s metrics export and the access log on", () => {
    expect(readEnv(base).telemetry).toEqual({ traceSampling: 1, metricsExportIntervalMs: 10_000, accessLog: true });
  });

  it("reads the sampling rate, an Istio duration or plain milliseconds, and on/off", () => {
    expect(readEnv({ ...base, TRELLIS_TRACE_SAMPLING: "0.25", TRELLIS_METRICS_EXPORT_INTERVAL: "2s", TRELLIS_ACCESS_LOG: "off" }).telemetry).toEqual({
      traceSampling: 0.25,
      metricsExportIntervalMs: 2_000,
      accessLog: false,
    });
    expect(readEnv({ ...base, TRELLIS_METRICS_EXPORT_INTERVAL: "1500" }).telemetry?.metricsExportIntervalMs).toBe(1_500);
  });

  it("reads TCP upstreams, the app's TCP port and the forward-proxy port (protocols)", () => {
    const options = readEnv({ ...base, TRELLIS_UPSTREAMS: "redis=6379/tcp", TRELLIS_APP_TCP_PORT: "7001", TRELLIS_HTTP_PROXY_PORT: "15080" });
    expect(options).toMatchObject({ upstreams: [{ service: "redis", port: 6379, protocol: "tcp" }], appTcpPort: 7001, httpProxyPort: 15080 });
    expect(() => readEnv({ ...base, TRELLIS_HTTP_PROXY_PORT: base.TRELLIS_INBOUND_PORT })).toThrow(/TRELLIS_INBOUND_PORT and TRELLIS_HTTP_PROXY_PORT are both/);
  });

  it.each([
    [{ TRELLIS_TRACE_SAMPLING: "2" }, "TRELLIS_TRACE_SAMPLING: must be from 0 to 1, e.g. 0.1"],
    [{ TRELLIS_TRACE_SAMPLING: "most" }, "TRELLIS_TRACE_SAMPLING: must be a number from 0 to 1, e.g. 0.1"],
    [{ TRELLIS_METRICS_EXPORT_INTERVAL: "10 seconds" }, 'TRELLIS_METRICS_EXPORT_INTERVAL: "10 seconds" is not a duration; use Istio syntax like 2s or 250ms (or plain milliseconds, e.g. 10000)'],
    [{ TRELLIS_METRICS_EXPORT_INTERVAL: "10ms" }, "TRELLIS_METRICS_EXPORT_INTERVAL: must be at least 100ms"],
    [{ TRELLIS_ACCESS_LOG: "maybe" }, "TRELLIS_ACCESS_LOG: must be on or off"],
  ])("refuses %j with a clear message", (env, message) => {
    expect(() => readEnv({ ...base, ...env })).toThrow(message);
  });
});
