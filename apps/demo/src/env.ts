// The only place the demo reads process.env: the launcher's settings, the settings each demo service gets from
// the launcher (PORT, upstream URLs), and the environment children inherit. Validated once, with fixable messages.
import { AppError } from "@trellis/runtime";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

// This file sits one level below the package root both as source (src/env.ts) and bundled (dist/main.js).
const packageRoot = fileURLToPath(new URL("..", import.meta.url));

const port = z.coerce.number().int().min(1).max(65535);
const onOff = z
  .string()
  .toLowerCase()
  .pipe(z.enum(["on", "off", "true", "false", "1", "0"]))
  .transform((v) => v === "on" || v === "true" || v === "1");

const demoEnvSchema = z.object({
  TRELLIS_DEMO_RPS: z.coerce.number().positive().max(10_000).default(10),
  TRELLIS_GATEWAY_PORT: port.default(8080),
  TRELLIS_CONTROL_PLANE_URL: z.url().default("http://127.0.0.1:15010"),
  TRELLIS_OTLP_ENDPOINT: z.url().default("http://127.0.0.1:4318"),
  TRELLIS_DEMO_PORT_BASE: port.default(9100),
  TRELLIS_SIDECAR_ADMIN_BASE: port.default(15000),
  TRELLIS_SIDECAR_ENTRY: z
    .string()
    .min(1)
    .default(resolve(packageRoot, "../sidecar/dist/main.js"))
    .transform((p) => resolve(p)),
  TRELLIS_DEMO_LOAD: onOff.default(true),
  TRELLIS_PYTHON: z.string().min(1).default("python3"),
});

export type DemoEnv = {
  rps: number;
  gatewayPort: number;
  controlPlaneUrl: string;
  otlpEndpoint: string;
  portBase: number;
  adminBase: number;
  sidecarEntry: string;
  load: boolean;
  python: string;
  /** Where the Python catalog's server.py lives (shipped with this package, not configurable). */
  catalogScript: string;
  /** The seed's Istio policies, applied on the first start (shipped with this package). */
  policiesFile: string;
};

export function readDemoEnv(): DemoEnv {
  const e = parseEnv(demoEnvSchema);
  return {
    rps: e.TRELLIS_DEMO_RPS,
    gatewayPort: e.TRELLIS_GATEWAY_PORT,
    controlPlaneUrl: e.TRELLIS_CONTROL_PLANE_URL,
    otlpEndpoint: e.TRELLIS_OTLP_ENDPOINT,
    portBase: e.TRELLIS_DEMO_PORT_BASE,
    adminBase: e.TRELLIS_SIDECAR_ADMIN_BASE,
    sidecarEntry: e.TRELLIS_SIDECAR_ENTRY,
    load: e.TRELLIS_DEMO_LOAD,
    python: e.TRELLIS_PYTHON,
    catalogScript: resolve(packageRoot, "services/catalog-service/server.py"),
    policiesFile: resolve(packageRoot, "policies/seed-policies.yaml"),
  };
}

const serviceEnvSchema = z.object({
  // 0 lets the OS pick (tests); the service prints the port it got.
  PORT: z.coerce.number().int().min(0).max(65535),
  SERVICE_VERSION: z.string().min(1).default("v1"),
  CATALOG_URL: z.url().optional(),
  ORDER_URL: z.url().optional(),
  PAYMENT_URL: z.url().optional(),
  INVENTORY_URL: z.url().optional(),
  PAYMENT_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0.01),
});

export type ServiceEnv = {
  port: number;
  version: string;
  /** Upstream base URLs by env var name (CATALOG_URL, ...), only those that are set. */
  upstreamUrls: Record<string, string>;
  paymentFailureRate: number;
};

export function readServiceEnv(): ServiceEnv {
  const e = parseEnv(serviceEnvSchema);
  const upstreamUrls: Record<string, string> = {};
  for (const key of ["CATALOG_URL", "ORDER_URL", "PAYMENT_URL", "INVENTORY_URL"] as const) {
    const value = e[key];
    if (value !== undefined) upstreamUrls[key] = value;
  }
  return { port: e.PORT, version: e.SERVICE_VERSION, upstreamUrls, paymentFailureRate: e.PAYMENT_FAILURE_RATE };
}

/** What child processes start from, so settings the launcher does not know (a sidecar's join token, PATH) pass through. */
export function readInheritedEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) out[key] = value;
  return out;
}

function parseEnv<T extends z.ZodType>(schema: T): z.output<T> {
  // An empty variable (FOO= in a compose file) means "use the default", not "invalid".
  const raw = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join(".");
    return `${key}=${JSON.stringify(raw[key] ?? "")}: ${issue.message}`;
  });
  throw new AppError("CONFIG", `invalid environment: ${problems.join("; ")}; fix or unset these variables`);
}
