// The sidecar's configuration from TRELLIS_* variables, validated once at start and turned into the options
// startSidecar takes; nothing else reads process.env.
import { z } from "zod";
import { AppError } from "@trellis/runtime";
import type { SidecarOptions } from "./options.ts";
import { parseUpstreams } from "./upstreams.ts";

const port = z.coerce.number().int().min(0).max(65535);
const name = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and '-', e.g. order-service");

const schema = z.object({
  TRELLIS_SERVICE: name,
  TRELLIS_NAMESPACE: name.default("default"),
  TRELLIS_VERSION: z.string().min(1).default("v1"),
  TRELLIS_WORKLOAD: z.string().min(1).optional(),
  TRELLIS_MODE: z.enum(["sidecar", "gateway"]).default("sidecar"),
  TRELLIS_APP_PORT: port.optional(),
  TRELLIS_INBOUND_PORT: port.optional(),
  TRELLIS_GATEWAY_PORT: port.default(8080),
  TRELLIS_GATEWAY_HOST: z.string().min(1).default("127.0.0.1"),
  TRELLIS_GATEWAY_ROUTE: name.optional(),
  TRELLIS_UPSTREAMS: z.string().default(""),
  TRELLIS_ADMIN_PORT: port.default(15000),
  TRELLIS_CONTROL_PLANE_URL: z.url().default("http://127.0.0.1:15010"),
  TRELLIS_OTLP_ENDPOINT: z.url().default("http://127.0.0.1:4318"),
  /** Lets the sidecar get a mesh certificate from the control plane's CA; without it the sidecar has no identity. */
  TRELLIS_JOIN_TOKEN: z.string().min(1).optional(),
});

export function readEnv(source: NodeJS.ProcessEnv = process.env): SidecarOptions {
  // An empty variable (FOO= in a shell or compose file) means "not set", not the number 0.
  const result = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, value]) => value !== "")));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new AppError("CONFIG", `invalid sidecar environment: ${problems}`);
  }
  const env = result.data;
  const common = {
    service: env.TRELLIS_SERVICE,
    namespace: env.TRELLIS_NAMESPACE,
    version: env.TRELLIS_VERSION,
    workload: env.TRELLIS_WORKLOAD ?? `${env.TRELLIS_SERVICE}-${env.TRELLIS_VERSION}-${env.TRELLIS_ADMIN_PORT}`,
    adminPort: env.TRELLIS_ADMIN_PORT,
    controlPlaneUrl: env.TRELLIS_CONTROL_PLANE_URL,
    otlpEndpoint: env.TRELLIS_OTLP_ENDPOINT,
    joinToken: env.TRELLIS_JOIN_TOKEN,
  };

  if (env.TRELLIS_MODE === "gateway") {
    if (env.TRELLIS_GATEWAY_ROUTE === undefined) {
      throw new AppError("CONFIG", "TRELLIS_GATEWAY_ROUTE is required in gateway mode: the service every request goes to, e.g. TRELLIS_GATEWAY_ROUTE=frontend");
    }
    return { ...common, mode: "gateway", gatewayHost: env.TRELLIS_GATEWAY_HOST, gatewayPort: env.TRELLIS_GATEWAY_PORT, route: env.TRELLIS_GATEWAY_ROUTE };
  }

  if (env.TRELLIS_APP_PORT === undefined || env.TRELLIS_INBOUND_PORT === undefined) {
    throw new AppError(
      "CONFIG",
      "sidecar mode needs TRELLIS_APP_PORT (the app's port on 127.0.0.1) and TRELLIS_INBOUND_PORT (the mesh port other sidecars call), e.g. TRELLIS_APP_PORT=8001 TRELLIS_INBOUND_PORT=15101",
    );
  }
  const upstreams = parseUpstreams(env.TRELLIS_UPSTREAMS);
  if (!upstreams.ok) throw new AppError("CONFIG", upstreams.error);
  const ports = [
    ["TRELLIS_APP_PORT", env.TRELLIS_APP_PORT],
    ["TRELLIS_INBOUND_PORT", env.TRELLIS_INBOUND_PORT],
    ["TRELLIS_ADMIN_PORT", env.TRELLIS_ADMIN_PORT],
    ...upstreams.upstreams.map((u) => [`TRELLIS_UPSTREAMS (${u.service})`, u.port] as const),
  ] as const;
  for (const [i, [nameA, portA]] of ports.entries()) {
    const clash = ports.slice(i + 1).find(([, portB]) => portA !== 0 && portB === portA);
    if (clash) throw new AppError("CONFIG", `${nameA} and ${clash[0]} are both ${portA}; every listener needs its own port`);
  }
  return { ...common, mode: "sidecar", appPort: env.TRELLIS_APP_PORT, inboundPort: env.TRELLIS_INBOUND_PORT, upstreams: upstreams.upstreams };
}
