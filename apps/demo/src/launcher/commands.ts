// What the launcher runs for each part of the mesh — the app, its sidecar, the gateway — with the env contract
// each one expects. Pure, so the exact commands and environments can be checked without starting anything.
import { SIDECAR_NODE_FLAGS } from "@trellis/runtime";
import { parentWatchImport } from "../parent-watch.ts";
import { formatUpstreams, type PlannedGateway, type PlannedInstance } from "../port-plan.ts";

/** Every demo workload runs in this namespace (and its join tokens are minted for it). */
export const DEMO_NAMESPACE = "default";

export type ChildRole = "app" | "sidecar" | "gateway";

export type ChildSpec = {
  label: string;
  role: ChildRole;
  command: string;
  args: string[];
  env: Record<string, string>;
};

export type CommandContext = {
  /** How to run this program again (node + its flags + the entry), for the TypeScript services. */
  self: { command: string; args: string[] };
  nodePath: string;
  sidecarEntry: string;
  python: string;
  catalogScript: string;
  controlPlaneUrl: string;
  otlpEndpoint: string;
  /** The launcher's environment: passed through (PATH, ...) minus what we set per child. */
  inheritedEnv: Record<string, string>;
  /** Join tokens by service (minted by the control plane's CA); a sidecar without one runs without a mesh identity. */
  joinTokens: Record<string, string>;
};

// Set per child below; an inherited value (say TRELLIS_MODE=gateway in the launcher's shell) must not leak into the wrong child.
const perChildVars = [
  "PORT",
  "SERVICE_VERSION",
  "CATALOG_URL",
  "ORDER_URL",
  "PAYMENT_URL",
  "INVENTORY_URL",
  "TRELLIS_SERVICE",
  "TRELLIS_NAMESPACE",
  "TRELLIS_VERSION",
  "TRELLIS_WORKLOAD",
  "TRELLIS_MODE",
  "TRELLIS_APP_PORT",
  "TRELLIS_INBOUND_PORT",
  "TRELLIS_UPSTREAMS",
  "TRELLIS_ADMIN_PORT",
  "TRELLIS_GATEWAY_PORT",
  "TRELLIS_GATEWAY_ROUTE",
  // A token allows one service's identity, so each sidecar gets its own; the secret that mints them stays here.
  "TRELLIS_JOIN_TOKEN",
  "TRELLIS_JOIN_SECRET",
];

export function instanceLabel(instance: Pick<PlannedInstance, "service" | "version">): string {
  return `${instance.service} ${instance.version}`;
}

export function buildAppCommand(instance: PlannedInstance, ctx: CommandContext): ChildSpec {
  const env = {
    ...baseEnv(ctx),
    PORT: String(instance.appPort),
    SERVICE_VERSION: instance.version,
    ...Object.fromEntries(instance.upstreams.map((u) => [u.urlEnv, `http://127.0.0.1:${u.port}`])),
  };
  const label = instanceLabel(instance);
  if (instance.runtime === "python") {
    return { label, role: "app", command: ctx.python, args: ["-u", ctx.catalogScript], env };
  }
  return { label, role: "app", command: ctx.self.command, args: [...ctx.self.args, "service", instance.service], env };
}

export function buildSidecarCommand(instance: PlannedInstance, ctx: CommandContext): ChildSpec {
  return {
    label: `${instanceLabel(instance)} sidecar`,
    role: "sidecar",
    command: ctx.nodePath,
    args: [...SIDECAR_NODE_FLAGS, "--import", parentWatchImport, ctx.sidecarEntry],
    env: {
      ...baseEnv(ctx),
      ...meshEnv(ctx, instance.service),
      TRELLIS_SERVICE: instance.service,
      TRELLIS_VERSION: instance.version,
      TRELLIS_WORKLOAD: instance.workload,
      TRELLIS_MODE: "sidecar",
      TRELLIS_APP_PORT: String(instance.appPort),
      TRELLIS_INBOUND_PORT: String(instance.inboundPort),
      TRELLIS_UPSTREAMS: formatUpstreams(instance.upstreams),
      TRELLIS_ADMIN_PORT: String(instance.adminPort),
    },
  };
}

export function buildGatewayCommand(gateway: PlannedGateway, ctx: CommandContext): ChildSpec {
  return {
    label: gateway.service,
    role: "gateway",
    command: ctx.nodePath,
    args: [...SIDECAR_NODE_FLAGS, "--import", parentWatchImport, ctx.sidecarEntry],
    env: {
      ...baseEnv(ctx),
      ...meshEnv(ctx, gateway.service),
      TRELLIS_SERVICE: gateway.service,
      TRELLIS_VERSION: gateway.version,
      TRELLIS_WORKLOAD: gateway.workload,
      TRELLIS_MODE: "gateway",
      TRELLIS_ADMIN_PORT: String(gateway.adminPort),
      TRELLIS_GATEWAY_PORT: String(gateway.port),
      TRELLIS_GATEWAY_ROUTE: gateway.route,
    },
  };
}

function baseEnv(ctx: CommandContext): Record<string, string> {
  const env = { ...ctx.inheritedEnv };
  for (const key of perChildVars) delete env[key];
  return env;
}

function meshEnv(ctx: CommandContext, service: string): Record<string, string> {
  const token = ctx.joinTokens[service];
  return {
    TRELLIS_NAMESPACE: DEMO_NAMESPACE,
    TRELLIS_CONTROL_PLANE_URL: ctx.controlPlaneUrl,
    TRELLIS_OTLP_ENDPOINT: ctx.otlpEndpoint,
    ...(token === undefined ? {} : { TRELLIS_JOIN_TOKEN: token }),
  };
}
