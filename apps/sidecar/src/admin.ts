// The sidecar's admin endpoint (Envoy's admin port): readiness for orchestrators and tests, and the config in
// force for people debugging routing.
import http from "node:http";
import type { NodeInfo } from "@trellis/mesh-config";
import type { ConfigStore } from "./config-store.ts";
import type { StreamStatus } from "./config-stream.ts";
import { summarise, type Identity } from "./identity/identity.ts";
import type { Telemetry } from "./telemetry/index.ts";
import { formatStatsText } from "./telemetry/stats-text.ts";

export type AdminDeps = {
  store: ConfigStore;
  /** Null until the node is known (listeners bound) — before that the sidecar is not ready. */
  node: () => NodeInfo | null;
  streamStatus: () => StreamStatus | null;
  controlPlaneUrl: string;
  /** The mesh identity when a join token is configured; null means the sidecar runs without one. */
  identity: () => Identity | null;
  /** GET /clusters: endpoints, health and ejections, breakers and retry budgets per cluster (outbound/clusters-admin.ts). */
  clusters?: () => unknown;
  /** True once a graceful drain started (SIGTERM): /ready answers 503 so orchestrators stop sending. */
  draining?: () => boolean;
  /** GET /stats (Envoy-style counters, ?format=json) and GET /stats/prometheus come from here. */
  telemetry?: Pick<Telemetry, "stats" | "servePrometheus">;
};

export function createAdminServer(deps: AdminDeps): http.Server {
  const { store, node, streamStatus } = deps;
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    if (req.method !== "GET") return sendJson(res, 405, { error: `admin endpoints are read-only; use GET ${path}` });
    if (path === "/ready") {
      const reason = notReadyReason(deps);
      if (reason === "draining") return sendJson(res, 503, { status: "draining", reason: "the sidecar is shutting down (SIGTERM); in-flight requests are finishing" });
      return reason === null ? sendJson(res, 200, { status: "ready" }) : sendJson(res, 503, { status: "not ready", reason });
    }
    if (path === "/config_dump") {
      const current = store.current();
      return sendJson(res, 200, {
        version: current?.version ?? null,
        nonce: current?.nonce ?? null,
        snapshot: current?.snapshot ?? null,
        node: node(),
        appliedAt: current?.appliedAt.toISOString() ?? null,
        stream: streamStatus(),
      });
    }
    if (path === "/certs") return sendCerts(res, deps);
    if (path === "/clusters" && deps.clusters) return sendJson(res, 200, deps.clusters());
    if (path === "/stats/prometheus" && deps.telemetry) return deps.telemetry.servePrometheus(req, res);
    if (path === "/stats" && deps.telemetry) return sendStats(req, res, deps.telemetry);
    sendJson(res, 404, { error: `no admin endpoint ${path}; try GET /ready, GET /config_dump, GET /certs, GET /stats or GET /stats/prometheus` });
  });
}

function notReadyReason({ store, node, streamStatus, controlPlaneUrl, identity, draining }: AdminDeps): string | null {
  if (draining?.() === true) return "draining";
  if (node() === null) return "listeners are not up yet";
  // With a join token the sidecar is not ready until it can prove who it is; without one it never will.
  const mesh = identity();
  if (mesh !== null && mesh.current() === null) {
    const lastError = mesh.lastError();
    return `no valid certificate for ${mesh.spiffeId} from the mesh CA at ${controlPlaneUrl} yet${lastError ? ` (${lastError})` : ""}`;
  }
  if (store.current() !== null) return null;
  const lastError = streamStatus()?.lastError;
  return `no config received from the control plane at ${controlPlaneUrl} yet${lastError ? ` (${lastError})` : ""}`;
}

/** GET /certs: the current certificate, for people and for `trellis check` (same root as the control plane's?). */
function sendCerts(res: http.ServerResponse, { identity, controlPlaneUrl }: AdminDeps): void {
  const mesh = identity();
  if (mesh === null) return sendJson(res, 404, { error: "this sidecar has no mesh identity: no TRELLIS_JOIN_TOKEN was given" });
  const material = mesh.current();
  if (material === null) {
    const lastError = mesh.lastError();
    return sendJson(res, 503, { error: `no valid certificate for ${mesh.spiffeId} from the mesh CA at ${controlPlaneUrl} yet${lastError ? ` (${lastError})` : ""}` });
  }
  sendJson(res, 200, summarise(material));
}

function sendStats(req: http.IncomingMessage, res: http.ServerResponse, telemetry: Pick<Telemetry, "stats">): void {
  const format = new URL(req.url ?? "/", "http://admin").searchParams.get("format");
  if (format === "json") return sendJson(res, 200, { stats: telemetry.stats() });
  if (format !== null && format !== "text") return sendJson(res, 400, { error: `unknown format "${format}"; use GET /stats, /stats?format=json or /stats/prometheus` });
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  res.end(formatStatsText(telemetry.stats()));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
