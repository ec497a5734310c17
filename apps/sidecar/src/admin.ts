// The sidecar's admin endpoint (Envoy's admin port): readiness for orchestrators and tests, and the config in
// force for people debugging routing.
import http from "node:http";
import type { NodeInfo } from "@trellis/mesh-config";
import type { ConfigStore } from "./config-store.ts";
import type { StreamStatus } from "./config-stream.ts";

export type AdminDeps = {
  store: ConfigStore;
  /** Null until the node is known (listeners bound) — before that the sidecar is not ready. */
  node: () => NodeInfo | null;
  streamStatus: () => StreamStatus | null;
  controlPlaneUrl: string;
};

export function createAdminServer({ store, node, streamStatus, controlPlaneUrl }: AdminDeps): http.Server {
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    if (req.method !== "GET") return sendJson(res, 405, { error: `admin endpoints are read-only; use GET ${path}` });
    if (path === "/ready") {
      const reason = notReadyReason({ store, node, streamStatus, controlPlaneUrl });
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
    sendJson(res, 404, { error: `no admin endpoint ${path}; try GET /ready or GET /config_dump` });
  });
}

function notReadyReason({ store, node, streamStatus, controlPlaneUrl }: AdminDeps): string | null {
  if (node() === null) return "listeners are not up yet";
  if (store.current() !== null) return null;
  const lastError = streamStatus()?.lastError;
  return `no config received from the control plane at ${controlPlaneUrl} yet${lastError ? ` (${lastError})` : ""}`;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
