// Starts one sidecar (or gateway) in-process: listeners first, then the config stream announcing their real
// addresses, then the admin endpoint reports ready once a first config is applied.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { NodeInfo } from "@trellis/mesh-config";
import { listen } from "@trellis/runtime";
import { createAdminServer } from "./admin.ts";
import { createConfigStore } from "./config-store.ts";
import { startConfigStream, type ConfigStream } from "./config-stream.ts";
import { createDrainTracker } from "./drain.ts";
import { startIdentity, type Identity } from "./identity/identity.ts";
import { readTokenClaims } from "./identity/join-token.ts";
import { createInboundHandler } from "./inbound/handler.ts";
import type { Logger, SidecarOptions } from "./options.ts";
import { createLoadBalancer } from "./outbound/concrete.ts";
import { createResilience } from "./outbound/cluster-state.ts";
import { describeClusters } from "./outbound/clusters-admin.ts";
import { createOutboundHandler } from "./outbound/handler.ts";
import { createClusterPool, type ClusterPool } from "./outbound/pools.ts";
import { installHttp1Engine } from "./http1/server.ts";
import { answerBadInput } from "./proxy/client-error.ts";
import { createProtocols } from "./proxy/protocols.ts";
import { createTelemetry } from "./telemetry/index.ts";
import { createMeshListener, type MeshListener } from "./transport/listener.ts";
import { createMeshTls } from "./transport/mesh-tls.ts";
import { encodePeerMetadata } from "./transport/peer-metadata.ts";
import { createUpstreamTls } from "./transport/upstream-tls.ts";

const LOOPBACK = "127.0.0.1";
/** How long in-flight requests get to finish on stop before their connections are cut (TRELLIS_DRAIN_TIMEOUT). */
const DRAIN_MS = 5_000;
const FLUSH_MS = 2_000;

export type SidecarPorts = { admin: number; inbound?: number; gateway?: number; httpProxy?: number; upstreams: Record<string, number> };

export type Sidecar = {
  ports: SidecarPorts;
  node: NodeInfo;
  /** The mesh identity (certificate, key, root; onRotate), or null when no join token was given. */
  identity: Identity | null;
  /** The inbound mesh listener (sidecar mode): its connection stats and protocol hook points. */
  inbound: MeshListener | null;
  stop: () => Promise<void>;
};

export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const log: Logger = options.log ?? console;
  // A malformed join token stops the start before any port is bound.
  if (options.joinToken !== undefined) readTokenClaims(options.joinToken);
  const telemetry = createTelemetry({
    identity: { service: options.service, namespace: options.namespace, version: options.version, workload: options.workload },
    otlpEndpoint: options.otlpEndpoint,
    onSpanEnd: options.onSpanEnd,
    settings: options.telemetry,
  });
  const store = createConfigStore({ service: options.service });
  const currentSnapshot = () => store.current()?.snapshot ?? null;
  const balancer = createLoadBalancer();

  let node: NodeInfo | null = null;
  let stream: ConfigStream | null = null;
  // The certificate is requested at once (it arrives asynchronously); listeners and upstream pools read it as it
  // comes and rotates.
  const identity: Identity | null =
    options.joinToken === undefined
      ? null
      : startIdentity({ controlPlaneUrl: options.controlPlaneUrl, joinToken: options.joinToken, namespace: options.namespace, service: options.service, workload: options.workload, log });
  const meshTls = identity === null ? null : createMeshTls(identity);
  /** mTLS origination per cluster for the outbound connection pools (null: plaintext). */
  const upstreamTls = createUpstreamTls({ meshTls, currentSnapshot });
  // Breakers, pools (over mTLS where upstreamTls says so), outlier detection and retry budgets per cluster, shared
  // by every outbound listener.
  const resilience = createResilience({ upstreamTls, currentSnapshot, recordClusterEvent: telemetry.recordClusterEvent, retryBudgetPercent: options.retryBudgetPercent });
  const source = { workload: options.workload, app: options.service, version: options.version, namespace: options.namespace };
  const outboundCommon = { currentSnapshot, balancer, telemetry, resilience, source, peerMetadata: encodePeerMetadata(source) };
  // HTTP/2 and gRPC, WebSocket, TCP pass-through and the forward proxy (proxy/protocols.ts).
  const protocols = createProtocols({ currentSnapshot, balancer, telemetry, resilience, upstreamTls, self: source, log });
  let inbound: MeshListener | null = null;
  let appPool: ClusterPool | null = null;
  const drain = createDrainTracker();
  const admin = createAdminServer({
    draining: drain.isDraining,
    telemetry,
    store,
    node: () => node,
    streamStatus: () => stream?.status() ?? null,
    controlPlaneUrl: options.controlPlaneUrl,
    identity: () => identity,
    clusters: () => describeClusters(resilience, currentSnapshot()),
  });
  const servers: http.Server[] = [];
  const ports: SidecarPorts = { admin: 0, upstreams: {} };

  const bind = async (handler: http.RequestListener, port: number, host: string, what: string, envVar: string, attach?: (server: http.Server) => void) => {
    const server = createProxyServer(drain.wrap(handler));
    attach?.(server);
    drain.track(server);
    servers.push(server);
    await listen(server, { port, host, what, envVar });
    return (server.address() as AddressInfo).port;
  };

  try {
    await listen(admin, { port: options.adminPort, host: LOOPBACK, what: "sidecar admin", envVar: "TRELLIS_ADMIN_PORT" });
    ports.admin = (admin.address() as AddressInfo).port;
    const adminUrl = `http://${LOOPBACK}:${ports.admin}`;

    if (options.mode === "gateway") {
      const handler = createOutboundHandler({ ...outboundCommon, upstream: options.route, serverSpan: true });
      ports.gateway = await bind(handler, options.gatewayPort, options.gatewayHost, "gateway", "TRELLIS_GATEWAY_PORT");
      const address = `${options.gatewayHost}:${ports.gateway}`;
      node = nodeInfo(options, { address, inboundUrl: `http://${address}`, adminUrl, upstreams: [options.route] });
    } else {
      const self = { workload: options.workload, app: options.service, version: options.version, namespace: options.namespace };
      // The local app's keep-alive pool; peer sidecars are reached through the per-cluster pools.
      appPool = createClusterPool(`inbound|${options.appPort}||`, () => null, { maxConnections: undefined, maxRequestsPerConnection: undefined, idleTimeoutMs: undefined });
      const onRequest = createInboundHandler({ appPort: options.appPort, telemetry, pool: appPool, currentSnapshot, self, spiffeId: identity?.spiffeId ?? null });
      inbound = createMeshListener({
        onRequest: drain.wrap(onRequest),
        mtlsMode: () => currentSnapshot()?.inbound.mtlsMode ?? null,
        meshTls,
        what: `sidecar ${options.workload} inbound`,
        log,
      });
      drain.track(inbound.http1);
      protocols.attachInbound(inbound, { appPort: options.appPort, appTcpPort: options.appTcpPort });
      await listen(inbound.server, { port: options.inboundPort, host: LOOPBACK, what: "sidecar inbound", envVar: "TRELLIS_INBOUND_PORT" });
      ports.inbound = (inbound.server.address() as AddressInfo).port;
      const handlerFor = (upstream: string) => createOutboundHandler({ ...outboundCommon, upstream, serverSpan: false });
      for (const upstream of options.upstreams) {
        const what = `outbound listener for ${upstream.service}`;
        if (upstream.protocol === "tcp") {
          const tcp = protocols.createTcpListener(upstream.service);
          await listen(tcp, { port: upstream.port, host: LOOPBACK, what, envVar: "TRELLIS_UPSTREAMS" });
          ports.upstreams[upstream.service] = (tcp.address() as AddressInfo).port;
          continue;
        }
        const attach = (server: http.Server) => protocols.attachOutbound(server, upstream.service);
        ports.upstreams[upstream.service] = await bind(handlerFor(upstream.service), upstream.port, LOOPBACK, what, "TRELLIS_UPSTREAMS", attach);
      }
      if (options.httpProxyPort !== undefined) {
        const proxy = protocols.createForwardProxy(handlerFor);
        ports.httpProxy = await bind(proxy.onRequest, options.httpProxyPort, LOOPBACK, "HTTP forward proxy", "TRELLIS_HTTP_PROXY_PORT", proxy.attach);
      }
      const address = `${LOOPBACK}:${ports.inbound}`;
      node = nodeInfo(options, { address, inboundUrl: `http://${address}`, adminUrl, upstreams: options.upstreams.map((u) => u.service) });
    }
  } catch (error) {
    await Promise.all([admin, ...servers].map((server) => closeServer(server, 0)));
    await inbound?.close(0);
    protocols.close();
    identity?.stop();
    meshTls?.stop();
    resilience.stop();
    appPool?.close();
    await telemetry.shutdown(0);
    throw error;
  }

  const registered = node;
  stream = startConfigStream({ controlPlaneUrl: options.controlPlaneUrl, node: registered, store, log });

  return {
    ports,
    node: registered,
    identity,
    inbound,
    stop: async () => {
      // /ready answers 503 "draining" from here on; the admin closes last so orchestrators can see it.
      const draining = drain.drain(options.drainTimeoutMs ?? DRAIN_MS);
      stream?.stop();
      identity?.stop();
      await Promise.all([draining, inbound?.close(options.drainTimeoutMs ?? DRAIN_MS)]);
      protocols.close();
      meshTls?.stop();
      await closeServer(admin, 0);
      resilience.stop();
      appPool?.close();
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
  installHttp1Engine(server);
  answerBadInput(server);
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
