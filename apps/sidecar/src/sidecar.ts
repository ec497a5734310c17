// Starts one sidecar (or gateway) in-process: listeners first, then the config stream announcing their real
// addresses, then the admin endpoint reports ready once a first config is applied.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { NodeInfo } from "@trellis/mesh-config";
import { listen } from "@trellis/runtime";
import { createAdminServer } from "./admin.ts";
import { createConfigStore } from "./config-store.ts";
import { startConfigStream, type ConfigStream } from "./config-stream.ts";
import { startIdentity, type Identity } from "./identity/identity.ts";
import { readTokenClaims } from "./identity/join-token.ts";
import { createInboundHandler } from "./inbound/handler.ts";
import type { Logger, SidecarOptions } from "./options.ts";
import { createLoadBalancer } from "./outbound/concrete.ts";
import { createOutboundHandler } from "./outbound/handler.ts";
import { createTelemetry } from "./telemetry/index.ts";

const LOOPBACK = "127.0.0.1";
/** How long in-flight requests get to finish on stop before their connections are cut. */
const DRAIN_MS = 2_000;
const FLUSH_MS = 2_000;

export type SidecarPorts = { admin: number; inbound?: number; gateway?: number; upstreams: Record<string, number> };

export type Sidecar = {
  ports: SidecarPorts;
  node: NodeInfo;
  /** The mesh identity (certificate, key, root; onRotate), or null when no join token was given. */
  identity: Identity | null;
  stop: () => Promise<void>;
};

export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const log: Logger = options.log ?? console;
  // A malformed join token stops the start before any port is bound.
  if (options.joinToken !== undefined) readTokenClaims(options.joinToken);
  const telemetry = createTelemetry({
    identity: { service: options.service, namespace: options.namespace, version: options.version, workload: options.workload },
    otlpEndpoint: options.otlpEndpoint,
    spanProcessors: options.spanProcessors,
  });
  const store = createConfigStore({ service: options.service });
  // One keep-alive pool for peer sidecars and one for the local app.
  const meshAgent = new http.Agent({ keepAlive: true });
  const appAgent = new http.Agent({ keepAlive: true });
  const currentSnapshot = () => store.current()?.snapshot ?? null;
  const balancer = createLoadBalancer();

  let node: NodeInfo | null = null;
  let stream: ConfigStream | null = null;
  let identity: Identity | null = null;
  const admin = createAdminServer({
    store,
    node: () => node,
    streamStatus: () => stream?.status() ?? null,
    controlPlaneUrl: options.controlPlaneUrl,
    identity: () => identity,
  });
  const servers: http.Server[] = [];
  const ports: SidecarPorts = { admin: 0, upstreams: {} };

  const bind = async (handler: http.RequestListener, port: number, host: string, what: string, envVar: string) => {
    const server = createProxyServer(handler);
    servers.push(server);
    await listen(server, { port, host, what, envVar });
    return (server.address() as AddressInfo).port;
  };

  try {
    await listen(admin, { port: options.adminPort, host: LOOPBACK, what: "sidecar admin", envVar: "TRELLIS_ADMIN_PORT" });
    ports.admin = (admin.address() as AddressInfo).port;
    const adminUrl = `http://${LOOPBACK}:${ports.admin}`;

    if (options.mode === "gateway") {
      const handler = createOutboundHandler({ upstream: options.route, currentSnapshot, balancer, telemetry, agent: meshAgent, serverSpan: true });
      ports.gateway = await bind(handler, options.gatewayPort, options.gatewayHost, "gateway", "TRELLIS_GATEWAY_PORT");
      const address = `${options.gatewayHost}:${ports.gateway}`;
      node = nodeInfo(options, { address, inboundUrl: `http://${address}`, adminUrl, upstreams: [options.route] });
    } else {
      const inbound = createInboundHandler({ appPort: options.appPort, telemetry, agent: appAgent });
      ports.inbound = await bind(inbound, options.inboundPort, LOOPBACK, "sidecar inbound", "TRELLIS_INBOUND_PORT");
      for (const upstream of options.upstreams) {
        const handler = createOutboundHandler({ upstream: upstream.service, currentSnapshot, balancer, telemetry, agent: meshAgent, serverSpan: false });
        ports.upstreams[upstream.service] = await bind(handler, upstream.port, LOOPBACK, `outbound listener for ${upstream.service}`, "TRELLIS_UPSTREAMS");
      }
      const address = `${LOOPBACK}:${ports.inbound}`;
      node = nodeInfo(options, { address, inboundUrl: `http://${address}`, adminUrl, upstreams: options.upstreams.map((u) => u.service) });
    }
  } catch (error) {
    await Promise.all([admin, ...servers].map((server) => closeServer(server, 0)));
    await telemetry.shutdown(0);
    throw error;
  }

  const registered = node;
  stream = startConfigStream({ controlPlaneUrl: options.controlPlaneUrl, node: registered, store, log });
  if (options.joinToken !== undefined) {
    identity = startIdentity({
      controlPlaneUrl: options.controlPlaneUrl,
      joinToken: options.joinToken,
      namespace: options.namespace,
      service: options.service,
      workload: options.workload,
      log,
    });
  }

  return {
    ports,
    node: registered,
    identity,
    stop: async () => {
      stream?.stop();
      identity?.stop();
      await Promise.all(servers.map((server) => closeServer(server, DRAIN_MS)));
      await closeServer(admin, 0);
      meshAgent.destroy();
      appAgent.destroy();
      await telemetry.shutdown(FLUSH_MS);
    },
  };
}

function nodeInfo(options: SidecarOptions, where: Pick<NodeInfo, "address" | "inboundUrl" | "adminUrl" | "upstreams">): NodeInfo {
  return {
    id: options.workload,
    service: options.service,
    namespace: options.namespace,
    version: options.version,
    mode: options.mode,
    labels: { app: options.service, version: options.version },
    ...where,
  };
}

function createProxyServer(handler: http.RequestListener): http.Server {
  const server = http.createServer(handler);
  // Apps keep pooled connections to their outbound listeners for a long time; closing them after Node's default
  // 5 s invites the reuse race where a request is written onto a socket we are closing.
  server.keepAliveTimeout = 60_000;
  return server;
}

/** Stops accepting, lets in-flight requests finish for up to `drainMs`, then cuts what is left. */
function closeServer(server: http.Server, drainMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), drainMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
