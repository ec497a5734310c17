// The sidecar's admin endpoint (Envoy's admin port): readiness for orchestrators and tests, and the config in
// force for people debugging routing.
import http from "node:http";
import type { NodeInfo } from "@trellis/mesh-config";
import type { ConfigStore } from "./config-store.ts";
import type { StreamStatus } from "./config-stream.ts";
import { summarise, type Identity } from "./identity/identity.ts";

export type AdminDeps = {
  store: ConfigStore;
  /** Null until the node is known (listeners bound) — before that the sidecar is not ready. */
  node: () => NodeInfo | null;
  streamStatus: () => StreamStatus | null;
  controlPlaneUrl: string;
  /** The mesh identity when a join token is configured; null means the sidecar runs without one. */
  identity: () => Identity | null;
};

export function createAdminServer(deps: AdminDeps): http.Server {
  const { store, node, streamStatus } = deps;
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    if (req.method !== "GET") return sendJson(res, 405, { error: `admin endpoints are read-only; use GET ${path}` });
    if (path === "/ready") {
      const reason = notReadyReason(deps);
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
    sendJson(res, 404, { error: `no admin endpoint ${path}; try GET /ready, GET /config_dump or GET /certs` });
  });
}

function notReadyReason({ store, node, streamStatus, controlPlaneUrl, identity }: AdminDeps): string | null {
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

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
