// What startSidecar needs, whether it comes from TRELLIS_* variables (env.ts), the CLI, or a test.
import type { FinishedSpan, TelemetrySettings } from "./telemetry/index.ts";
import type { Upstream } from "./upstreams.ts";

type CommonOptions = {
  service: string;
  namespace: string;
  version: string;
  /** Workload (instance) id registered with the control plane. */
  workload: string;
  /** 0 picks a free port (tests). */
  adminPort: number;
  controlPlaneUrl: string;
  /** OTLP/HTTP base URL; spans go to `${otlpEndpoint}/v1/traces`. */
  otlpEndpoint: string;
  /** Join token for the mesh CA (src/identity); without one the sidecar runs without a certificate. */
  joinToken?: string;
  /** Sees every sampled span as it ends, next to the OTLP export (tests read spans back through it). */
  onSpanEnd?: (span: FinishedSpan) => void;
  /** Trace sampling, metrics export interval, access log on/off (TRELLIS_TRACE_SAMPLING, _METRICS_EXPORT_INTERVAL, _ACCESS_LOG). */
  telemetry?: TelemetrySettings;
  /** On stop, how long in-flight requests get before their connections are cut (default 5 s). */
  drainTimeoutMs?: number;
  /** Retry budget: retries in flight per cluster stay within this share of active requests, in percent (default 20). */
  retryBudgetPercent?: number;
  log?: Logger;
};

export type SidecarModeOptions = CommonOptions & {
  mode: "sidecar";
  /** The app's port on 127.0.0.1. */
  appPort: number;
  /** The mesh port other sidecars call, on 127.0.0.1. */
  inboundPort: number;
  upstreams: Upstream[];
  /** The app's TCP port for pass-through traffic (TRELLIS_APP_TCP_PORT); without it inbound TCP is refused. */
  appTcpPort?: number;
  /** Loopback port of the HTTP forward proxy (TRELLIS_HTTP_PROXY_PORT; the app sets HTTP_PROXY to it); none when unset. */
  httpProxyPort?: number;
};

export type GatewayModeOptions = CommonOptions & {
  mode: "gateway";
  gatewayHost: string;
  gatewayPort: number;
  /** The service every request goes to. */
  route: string;
};

export type SidecarOptions = SidecarModeOptions | GatewayModeOptions;

export type Logger = Pick<Console, "info" | "warn" | "error">;
