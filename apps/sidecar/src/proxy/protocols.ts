// Plugs the protocols beyond HTTP/1.1 into the sidecar's listeners, so sidecar.ts wires each listener with one call:
// h2c/gRPC and WebSocket on outbound listeners, h2/gRPC, WebSocket and TCP on the inbound mesh listener, plain TCP
// outbound listeners, the HTTP forward proxy, and the explicit 400/431 DPE answer to bad input everywhere.
import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";
import type { Snapshot } from "@trellis/mesh-config";
import type { Logger } from "../options.ts";
import type { Resilience } from "../outbound/cluster-state.ts";
import type { LoadBalancer } from "../outbound/concrete.ts";
import { createForwardProxy } from "../outbound/forward-proxy.ts";
import type { Telemetry } from "../telemetry/index.ts";
import type { WorkloadLabels } from "../telemetry/records.ts";
import type { TcpHandler } from "../transport/listener.ts";
import { encodePeerMetadata } from "../transport/peer-metadata.ts";
import type { UpstreamTlsProvider } from "../transport/upstream-tls.ts";
import { answerBadInput } from "./client-error.ts";
import { createInboundH2Handler } from "./h2-inbound.ts";
import { acceptH2c } from "./h2-listener.ts";
import { createOutboundH2Handler } from "./h2-outbound.ts";
import { createH2SessionPool } from "./h2-session-pool.ts";
import { createInboundTcpHandler, createOutboundTcpHandler } from "./tcp.ts";
import { createInboundUpgradeHandler, createOutboundUpgradeHandler } from "./websocket.ts";

export type ProtocolsDeps = {
  currentSnapshot: () => Snapshot | null;
  balancer: LoadBalancer;
  telemetry: Telemetry;
  /** The HTTP/1.1 listeners' per-cluster breakers, outlier detection and retry budgets, used by h2/gRPC too. */
  resilience: Resilience;
  upstreamTls: UpstreamTlsProvider;
  /** This workload. */
  self: WorkloadLabels;
  log: Logger;
};

/** The inbound listener's hook points (transport/listener.ts MeshListener), or a plain HTTP/1.1 server. */
export type InboundHooks = { http1: http.Server; http2?: http2.Http2Server; setTcpHandler?: (handler: TcpHandler) => void };

export type Protocols = {
  /** h2c (gRPC) and WebSocket on the outbound HTTP listener of `upstream` (sidecar.ts answers bad input on it). */
  attachOutbound: (server: http.Server, upstream: string) => void;
  /** h2 / h2c, WebSocket and (with `appTcpPort`) TCP on the inbound listener, towards the app. */
  attachInbound: (hooks: InboundHooks, app: { appPort: number; appTcpPort: number | undefined }) => void;
  /** A TCP pass-through listener for `upstream` (to be bound by the caller); closed by `close`. */
  createTcpListener: (upstream: string) => net.Server;
  /**
   * The forward proxy (HTTP_PROXY): its request handler, and `attach` for its server (WebSocket upgrades).
   * `handlerFor` gives the outbound HTTP/1.1 handler of an upstream.
   */
  createForwardProxy: (handlerFor: (upstream: string) => http.RequestListener) => { onRequest: http.RequestListener; attach: (server: http.Server) => void };
  /** Closes HTTP/2 client sessions and TCP pass-through connections. */
  close: () => void;
};

export function createProtocols(deps: ProtocolsDeps): Protocols {
  const { currentSnapshot, balancer, telemetry, resilience, upstreamTls, self, log } = deps;
  const meshSessions = createH2SessionPool();
  const appSessions = createH2SessionPool();
  const peerMetadata = encodePeerMetadata(self);
  const tcpServers: net.Server[] = [];
  const tcpSockets = new Set<net.Socket>();
  const upgradeFor = (upstream: string) => createOutboundUpgradeHandler({ upstream, currentSnapshot, balancer, telemetry, upstreamTls, source: self, peerMetadata });

  return {
    attachOutbound(server, upstream) {
      acceptH2c(server, createOutboundH2Handler({ upstream, currentSnapshot, balancer, telemetry, resilience, pool: meshSessions, upstreamTls, source: self, peerMetadata }));
      server.on("upgrade", upgradeFor(upstream));
    },
    attachInbound(hooks, { appPort, appTcpPort }) {
      answerBadInput(hooks.http1);
      const onStream = createInboundH2Handler({ appPort, telemetry, pool: appSessions, destination: self });
      if (hooks.http2 !== undefined) hooks.http2.on("stream", onStream);
      else acceptH2c(hooks.http1, onStream);
      hooks.http1.on("upgrade", createInboundUpgradeHandler({ appPort, telemetry, destination: self }));
      if (appTcpPort !== undefined && hooks.setTcpHandler !== undefined) hooks.setTcpHandler(createInboundTcpHandler({ appTcpPort, telemetry, destination: self }));
    },
    createTcpListener(upstream) {
      const handler = createOutboundTcpHandler({ upstream, currentSnapshot, balancer, telemetry, upstreamTls, source: self, log });
      const server = net.createServer((socket) => {
        tcpSockets.add(socket);
        socket.once("close", () => tcpSockets.delete(socket));
        handler(socket);
      });
      tcpServers.push(server);
      return server;
    },
    createForwardProxy(handlerFor) {
      const proxy = createForwardProxy({ currentSnapshot, handlerFor, upgradeFor });
      return {
        onRequest: proxy.onRequest,
        attach: (server) => void server.on("upgrade", proxy.onUpgrade),
      };
    },
    close() {
      meshSessions.close();
      appSessions.close();
      for (const server of tcpServers) server.close();
      for (const socket of tcpSockets) socket.destroy();
    },
  };
}
