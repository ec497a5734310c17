// The sidecar's configuration from TRELLIS_* variables, validated once at start and turned into the options
// startSidecar takes; nothing else reads process.env.
import { z } from "zod";
import { AppError } from "@trellis/runtime";
import { parseDuration } from "@trellis/mesh-config";
import type { SidecarOptions } from "./options.ts";
import { parseUpstreams } from "./upstreams.ts";

const port = z.coerce.number().int().min(0).max(65535);
const name = z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and '-', e.g. order-service");

/** A duration in Istio syntax (10s, 500ms, 1m) or plain milliseconds (10000). */
const duration = z.string().transform((value, ctx) => {
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = parseDuration(value);
  if (parsed.ok) return parsed.ms;
  ctx.addIssue({ code: "custom", message: `${parsed.message} (or plain milliseconds, e.g. 10000)` });
  return z.NEVER;
});
const onOff = z.enum(["on", "off", "true", "false", "1", "0"], { message: "must be on or off" }).transform((value) => value === "on" || value === "true" || value === "1");

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
  /** The app's port for TCP pass-through (inbound ALPN trellis-tcp), when it has one apart from its HTTP port. */
  TRELLIS_APP_TCP_PORT: port.optional(),
  /** Loopback port of the HTTP forward proxy; the app sets HTTP_PROXY=http://127.0.0.1:<port>. */
  TRELLIS_HTTP_PROXY_PORT: port.optional(),
  TRELLIS_ADMIN_PORT: port.default(15000),
  TRELLIS_CONTROL_PLANE_URL: z.url().default("http://127.0.0.1:15010"),
  TRELLIS_OTLP_ENDPOINT: z.url().default("http://127.0.0.1:4318"),
  /** Lets the sidecar get a mesh certificate from the control plane's CA; without it the sidecar has no identity. */
  TRELLIS_JOIN_TOKEN: z.string().min(1).optional(),
  /** The ingest bearer token (ingest's TRELLIS_INGEST_TOKEN), sent on every OTLP export. */
  TRELLIS_INGEST_TOKEN: z.string().min(1).optional(),
  /** Retry budget: retries in flight per cluster ≤ this percent of its active requests (Envoy budget_percent). */
  TRELLIS_RETRY_BUDGET_PERCENT: z.coerce.number({ message: "must be a number from 0 to 100, e.g. 20" }).min(0, "must be from 0 to 100, e.g. 20").max(100, "must be from 0 to 100, e.g. 20").default(20),
  /** Share of traces started at this sidecar that are sampled, 0..1 (a caller's decision is always kept). */
  TRELLIS_TRACE_SAMPLING: z.coerce.number({ message: "must be a number from 0 to 1, e.g. 0.1" }).min(0, "must be from 0 to 1, e.g. 0.1").max(1, "must be from 0 to 1, e.g. 0.1").default(1),
  /** How often metrics are pushed over OTLP. */
  TRELLIS_METRICS_EXPORT_INTERVAL: duration.pipe(z.number().int().min(100, "must be at least 100ms").max(3_600_000, "must be at most 1h")).default(10_000),
  /** One OTLP log record per request. */
  TRELLIS_ACCESS_LOG: onOff.default(true),
  /** Graceful drain on SIGTERM: milliseconds in-flight requests get before their connections are cut. */
  TRELLIS_DRAIN_TIMEOUT: z.coerce.number().int().min(0).max(300_000).default(5_000),
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
    retryBudgetPercent: env.TRELLIS_RETRY_BUDGET_PERCENT,
    telemetry: { traceSampling: env.TRELLIS_TRACE_SAMPLING, metricsExportIntervalMs: env.TRELLIS_METRICS_EXPORT_INTERVAL, accessLog: env.TRELLIS_ACCESS_LOG,
      otlpHeaders: env.TRELLIS_INGEST_TOKEN ? { authorization: `Bearer ${env.TRELLIS_INGEST_TOKEN}` } : undefined,
    },
    drainTimeoutMs: env.TRELLIS_DRAIN_TIMEOUT,
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
    ["TRELLIS_HTTP_PROXY_PORT", env.TRELLIS_HTTP_PROXY_PORT ?? 0],
    ["TRELLIS_ADMIN_PORT", env.TRELLIS_ADMIN_PORT],
    ...upstreams.upstreams.map((u) => [`TRELLIS_UPSTREAMS (${u.service})`, u.port] as const),
  ] as const;
  for (const [i, [nameA, portA]] of ports.entries()) {
    const clash = ports.slice(i + 1).find(([, portB]) => portA !== 0 && portB === portA);
    if (clash) throw new AppError("CONFIG", `${nameA} and ${clash[0]} are both ${portA}; every listener needs its own port`);
  }
  return {
    ...common,
    mode: "sidecar",
    appPort: env.TRELLIS_APP_PORT,
    inboundPort: env.TRELLIS_INBOUND_PORT,
    upstreams: upstreams.upstreams,
    appTcpPort: env.TRELLIS_APP_TCP_PORT,
    httpProxyPort: env.TRELLIS_HTTP_PROXY_PORT,
  };
}
