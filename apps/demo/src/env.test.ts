import { afterEach, describe, expect, it } from "vitest";
import { readDemoEnv, readServiceEnv } from "./env.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function clearTrellisEnv(): void {
  for (const key of Object.keys(process.env)) if (key.startsWith("TRELLIS_")) delete process.env[key];
}

describe("readDemoEnv", () => {
  it("has the documented defaults, with the sidecar and catalog found beside this package", () => {
    clearTrellisEnv();
    const env = readDemoEnv();
    expect(env).toMatchObject({
      rps: 10,
      gatewayPort: 8080,
      controlPlaneUrl: "http://127.0.0.1:15010",
      otlpEndpoint: "http://127.0.0.1:4318",
      portBase: 9100,
      adminBase: 15000,
      load: true,
      python: "python3",
    });
    expect(env.sidecarEntry).toMatch(/apps\/sidecar\/dist\/main\.js$/);
    expect(env.catalogScript).toMatch(/apps\/demo\/services\/catalog-service\/server\.py$/);
  });

  it("reads overrides and treats empty values as unset", () => {
    clearTrellisEnv();
    process.env.TRELLIS_DEMO_RPS = "2.5";
    process.env.TRELLIS_DEMO_LOAD = "OFF";
    process.env.TRELLIS_GATEWAY_PORT = "";
    expect(readDemoEnv()).toMatchObject({ rps: 2.5, load: false, gatewayPort: 8080 });
  });

  it("says which variable is wrong and what it held", () => {
    clearTrellisEnv();
    process.env.TRELLIS_DEMO_PORT_BASE = "ninety";
    expect(() => readDemoEnv()).toThrow(/TRELLIS_DEMO_PORT_BASE="ninety"/);
    process.env.TRELLIS_DEMO_PORT_BASE = "9100";
    process.env.TRELLIS_DEMO_LOAD = "maybe";
    expect(() => readDemoEnv()).toThrow(/TRELLIS_DEMO_LOAD="maybe"/);
  });
});

describe("readServiceEnv", () => {
  it("needs PORT and collects the upstream URLs that are set", () => {
    delete process.env.PORT;
    expect(() => readServiceEnv()).toThrow(/PORT/);
    process.env.PORT = "9106";
    process.env.CATALOG_URL = "http://127.0.0.1:9301";
    delete process.env.ORDER_URL;
    expect(readServiceEnv()).toMatchObject({ port: 9106, version: "v1", upstreamUrls: { CATALOG_URL: "http://127.0.0.1:9301" } });
  });
});
