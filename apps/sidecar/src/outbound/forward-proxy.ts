// HTTP forward-proxy mode (the app sets HTTP_PROXY=http://127.0.0.1:<TRELLIS_HTTP_PROXY_PORT>): requests come in
// absolute form (`GET http://order-service/path`) or with a Host header, and go through the outbound handler of the
// upstream the host names, exactly as if the app had called that upstream's own listener.
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { Snapshot } from "@trellis/mesh-config";
import { sendLocalReply } from "../proxy/forward.ts";
import { rejectUpgrade, type UpgradeHandler } from "../proxy/websocket.ts";
import { localReply, type LocalReply } from "../response-flags.ts";

export type ForwardProxyDeps = {
  currentSnapshot: () => Snapshot | null;
  /** The outbound request handler for an upstream (made once per upstream and kept). */
  handlerFor: (upstream: string) => http.RequestListener;
  /** The outbound WebSocket handler for an upstream, when upgrades are supported. */
  upgradeFor?: (upstream: string) => UpgradeHandler;
};

export type ForwardProxy = { onRequest: http.RequestListener; onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void };

export function createForwardProxy({ currentSnapshot, handlerFor, upgradeFor }: ForwardProxyDeps): ForwardProxy {
  const handlers = new Map<string, http.RequestListener>();
  const upgrades = new Map<string, UpgradeHandler>();

  /** The upstream the request names, with req.url turned into origin form; or the local reply saying why not. */
  const resolve = (req: http.IncomingMessage): string | LocalReply => {
    const target = readTarget(req);
    if (target === null) return { status: 400, flag: "DPE", body: `the request names no host: send an absolute URL (GET http://<service>/path) or a Host header\n` };
    req.url = target.path;
    const snapshot = currentSnapshot();
    if (snapshot === null) return localReply("NR", `no config from the control plane yet, so no route to "${target.host}"`);
    const known = snapshot.virtualHosts.map((host) => host.upstream);
    const upstream = matchUpstream(target.host, known);
    if (upstream === null) {
      return localReply("NR", `"${target.host}" is not an upstream of this sidecar; known upstreams: ${known.length === 0 ? "(none)" : [...known].sort().join(", ")} (add it to TRELLIS_UPSTREAMS)`);
    }
    return upstream;
  };

  return {
    onRequest(req, res) {
      if (req.method === "CONNECT") {
        sendLocalReply(res, { status: 501, flag: "NR", body: "CONNECT tunnels are not supported; call http:// URLs through HTTP_PROXY and let the mesh add mTLS\n" });
        return;
      }
      const upstream = resolve(req);
      if (typeof upstream !== "string") {
        sendLocalReply(res, upstream);
        return;
      }
      let handler = handlers.get(upstream);
      if (handler === undefined) {
        handler = handlerFor(upstream);
        handlers.set(upstream, handler);
      }
      handler(req, res);
    },
    onUpgrade(req, socket, head) {
      const upstream = resolve(req);
      if (typeof upstream !== "string" || upgradeFor === undefined) {
        rejectUpgrade(socket, typeof upstream === "string" ? localReply("NR", "upgrades are not supported on this listener") : upstream);
        return;
      }
      let handler = upgrades.get(upstream);
      if (handler === undefined) {
        handler = upgradeFor(upstream);
        upgrades.set(upstream, handler);
      }
      handler(req, socket, head);
    },
  };
}

/** Host (without port) and origin-form path of a proxy request: from an absolute URL, else from Host. */
export function readTarget(req: Pick<http.IncomingMessage, "url" | "headers">): { host: string; path: string } | null {
  const url = req.url ?? "/";
  if (url.startsWith("http://") || url.startsWith("https://")) {
    try {
      const parsed = new URL(url);
      return { host: parsed.hostname.toLowerCase(), path: `${parsed.pathname}${parsed.search}` };
    } catch {
      return null;
    }
  }
  const host = req.headers.host;
  if (host === undefined || host === "") return null;
  return { host: host.replace(/:\d+$/, "").toLowerCase(), path: url };
}

/** The upstream a host names: itself, or its first DNS label (`order-service.default.svc.cluster.local`). */
export function matchUpstream(host: string, known: readonly string[]): string | null {
  if (known.includes(host)) return host;
  const dot = host.indexOf(".");
  if (dot <= 0) return null;
  const first = host.slice(0, dot);
  return known.includes(first) ? first : null;
}
