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
