import { describe, expect, it } from "vitest";
import { planDemo, type PlannedInstance } from "../port-plan.ts";
import { buildAppCommand, buildGatewayCommand, buildSidecarCommand, type CommandContext } from "./commands.ts";

const plan = planDemo({ portBase: 9100, adminBase: 15000, gatewayPort: 8080 });
const ctx: CommandContext = {
  self: { command: "/usr/bin/node", args: ["/demo/dist/main.js"] },
  nodePath: "/usr/bin/node",
  sidecarEntry: "/sidecar/dist/main.js",
  python: "python3",
  catalogScript: "/demo/services/catalog-service/server.py",
  controlPlaneUrl: "http://127.0.0.1:15010",
  otlpEndpoint: "http://127.0.0.1:4318",
  inheritedEnv: { PATH: "/bin", TRELLIS_JOIN_TOKEN: "t0k", TRELLIS_JOIN_SECRET: "s3cret", TRELLIS_MODE: "gateway", PORT: "1", CATALOG_URL: "http://elsewhere" },
  joinTokens: { "order-service": "order-token", gateway: "gateway-token" },
};

function instance(workload: string): PlannedInstance {
  const found = plan.instances.find((i) => i.workload === workload);
  if (!found) throw new Error(`no ${workload} in the plan`);
  return found;
}

describe("buildAppCommand", () => {
  it("runs a TypeScript service through this program, pointing its upstream URLs at its sidecar's outbound listeners", () => {
    const app = buildAppCommand(instance("frontend-v1-0"), ctx);
    expect([app.command, ...app.args]).toEqual(["/usr/bin/node", "/demo/dist/main.js", "service", "frontend"]);
    expect(app.env).toMatchObject({
      PORT: "9106",
      SERVICE_VERSION: "v1",
      CATALOG_URL: "http://127.0.0.1:9301",
      ORDER_URL: "http://127.0.0.1:9302",
      PATH: "/bin",
    });
  });

  it("runs the catalog with Python, unbuffered, and without inherited upstream URLs", () => {
    const app = buildAppCommand(instance("catalog-service-v1-0"), ctx);
    expect([app.command, ...app.args]).toEqual(["python3", "-u", "/demo/services/catalog-service/server.py"]);
    expect(app.env.PORT).toBe("9103");
    expect(app.env.CATALOG_URL).toBeUndefined();
  });

  it("tells each order-service version its own version", () => {
    expect(buildAppCommand(instance("order-service-v2-0"), ctx).env).toMatchObject({
      SERVICE_VERSION: "v2",
      PAYMENT_URL: "http://127.0.0.1:9305",
      INVENTORY_URL: "http://127.0.0.1:9306",
    });
  });
});

describe("buildSidecarCommand", () => {
  it("gives the sidecar its env contract and a parent watch", () => {
    const sidecar = buildSidecarCommand(instance("order-service-v2-0"), ctx);
    expect(sidecar.command).toBe("/usr/bin/node");
    // Single-threaded GC (see @trellis/runtime's SIDECAR_NODE_FLAGS), the parent watch, then the sidecar itself.
    expect(sidecar.args).toEqual(["--single-threaded-gc", "--import", expect.stringMatching(/^data:text\/javascript,/), "/sidecar/dist/main.js"]);
    expect(sidecar.env).toMatchObject({
      TRELLIS_SERVICE: "order-service",
      TRELLIS_NAMESPACE: "default",
      TRELLIS_VERSION: "v2",
      TRELLIS_WORKLOAD: "order-service-v2-0",
      TRELLIS_MODE: "sidecar",
      TRELLIS_APP_PORT: "9105",
      TRELLIS_INBOUND_PORT: "9205",
      TRELLIS_UPSTREAMS: "payment-service=9305,inventory-service=9306",
      TRELLIS_ADMIN_PORT: "15005",
      TRELLIS_CONTROL_PLANE_URL: "http://127.0.0.1:15010",
      TRELLIS_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      TRELLIS_JOIN_TOKEN: "order-token",
    });
    expect(sidecar.env.TRELLIS_GATEWAY_PORT).toBeUndefined();
    expect(sidecar.env.TRELLIS_JOIN_SECRET).toBeUndefined();
  });

  it("gives a sidecar only its own service's join token, and none when there is none for it", () => {
    expect(buildSidecarCommand(instance("frontend-v1-0"), ctx).env.TRELLIS_JOIN_TOKEN).toBeUndefined();
    expect(buildSidecarCommand(instance("order-service-v1-0"), ctx).env.TRELLIS_JOIN_TOKEN).toBe("order-token");
  });

  it("never hands the join secret or a token to an app", () => {
    const app = buildAppCommand(instance("order-service-v2-0"), ctx);
    expect(app.env.TRELLIS_JOIN_SECRET).toBeUndefined();
    expect(app.env.TRELLIS_JOIN_TOKEN).toBeUndefined();
  });
});

describe("buildGatewayCommand", () => {
  it("runs the sidecar in gateway mode routing to frontend, without app settings leaking in", () => {
    const gateway = buildGatewayCommand(plan.gateway, ctx);
    expect(gateway.args).toEqual(["--single-threaded-gc", "--import", expect.stringMatching(/^data:text\/javascript,/), "/sidecar/dist/main.js"]);
    expect(gateway.env).toMatchObject({
      TRELLIS_SERVICE: "gateway",
      TRELLIS_WORKLOAD: "gateway-v1-0",
      TRELLIS_MODE: "gateway",
      TRELLIS_ADMIN_PORT: "15000",
      TRELLIS_GATEWAY_PORT: "8080",
      TRELLIS_GATEWAY_ROUTE: "frontend",
      TRELLIS_JOIN_TOKEN: "gateway-token",
    });
    expect(gateway.env.TRELLIS_APP_PORT).toBeUndefined();
    expect(gateway.env.PORT).toBeUndefined();
  });
});
