import { describe, expect, it } from "vitest";
import { formatUpstreams, listPlannedPorts, planDemo } from "./port-plan.ts";
import { demoServices, upstreamUrlEnv } from "./topology.ts";

const defaults = { portBase: 9100, adminBase: 15000, gatewayPort: 8080 };

describe("planDemo", () => {
  it("numbers instances leaves-first: apps on base+1.., inbound on base+101.., admin on adminBase+1..", () => {
    const plan = planDemo(defaults);
    const rows = plan.instances.map((i) => `${i.workload} ${i.appPort} ${i.inboundPort} ${i.adminPort}`);
    expect(rows).toEqual([
      "payment-service-v1-0 9101 9201 15001",
      "inventory-service-v1-0 9102 9202 15002",
      "catalog-service-v1-0 9103 9203 15003",
      "order-service-v1-0 9104 9204 15004",
      "order-service-v2-0 9105 9205 15005",
      "frontend-v1-0 9106 9206 15006",
    ]);
  });

  it("gives outbound listeners from the edge inwards, one per upstream per instance", () => {
    const plan = planDemo(defaults);
    const byWorkload = Object.fromEntries(plan.instances.map((i) => [i.workload, formatUpstreams(i.upstreams)]));
    expect(byWorkload).toEqual({
      "frontend-v1-0": "catalog-service=9301,order-service=9302",
      "order-service-v1-0": "payment-service=9303,inventory-service=9304",
      "order-service-v2-0": "payment-service=9305,inventory-service=9306",
      "payment-service-v1-0": "",
      "inventory-service-v1-0": "",
      "catalog-service-v1-0": "",
    });
    const frontend = plan.instances.find((i) => i.service === "frontend");
    expect(frontend?.upstreams.map((u) => u.urlEnv)).toEqual(["CATALOG_URL", "ORDER_URL"]);
  });

  it("puts the gateway on its own port with the first admin port, routing to frontend", () => {
    const { gateway } = planDemo(defaults);
    expect(gateway).toMatchObject({ service: "gateway", port: 8080, adminPort: 15000, route: "frontend" });
  });

  it("plans every port once", () => {
    const ports = listPlannedPorts(planDemo(defaults)).map((p) => p.port);
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports).toHaveLength(2 + 6 * 3 + 6);
  });

  it("follows moved bases", () => {
    const plan = planDemo({ portBase: 20000, adminBase: 30000, gatewayPort: 18080 });
    expect(plan.instances[0]).toMatchObject({ appPort: 20001, inboundPort: 20101, adminPort: 30001 });
    expect(plan.gateway).toMatchObject({ port: 18080, adminPort: 30000 });
  });

  it("refuses overlapping ranges, naming both users of the port and the env vars", () => {
    expect(() => planDemo({ ...defaults, adminBase: 9200 })).toThrow(
      /port 9201 is planned twice: for .*sidecar inbound \(TRELLIS_DEMO_PORT_BASE\) and for .*sidecar admin \(TRELLIS_SIDECAR_ADMIN_BASE\)/,
    );
    expect(() => planDemo({ ...defaults, gatewayPort: 9106 })).toThrow(/port 9106 is planned twice.*TRELLIS_GATEWAY_PORT/);
  });

  it("refuses ports above 65535", () => {
    expect(() => planDemo({ ...defaults, portBase: 65400 })).toThrow(/above 65535; lower TRELLIS_DEMO_PORT_BASE/);
  });
});

describe("topology", () => {
  it("names upstream URL env vars after the service", () => {
    expect(upstreamUrlEnv("catalog-service")).toBe("CATALOG_URL");
    expect(upstreamUrlEnv("frontend")).toBe("FRONTEND_URL");
  });

  it("only calls services that exist, and has the canary", () => {
    const names = new Set(demoServices.map((s) => s.name));
    for (const spec of demoServices) for (const upstream of spec.upstreams) expect(names).toContain(upstream);
    expect(demoServices.find((s) => s.name === "order-service")?.versions).toEqual(["v1", "v2"]);
    expect(demoServices.find((s) => s.name === "catalog-service")?.runtime).toBe("python");
  });
});
