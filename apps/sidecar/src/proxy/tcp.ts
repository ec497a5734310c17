// Plain TCP pass-through for non-HTTP upstreams (TRELLIS_UPSTREAMS=redis=6379/tcp): the app connects to a loopback
// port, the outbound side picks an endpoint of the service's cluster (logical and concrete layers, as for HTTP) and
// opens mTLS with ALPN trellis-tcp to the peer sidecar, whose inbound listener hands the decrypted socket to the
// app's TCP port. Bytes are piped both ways and counted once per connection for the istio_tcp_* metrics.
import net from "node:net";
import tls from "node:tls";
import type { Snapshot } from "@trellis/mesh-config";
import { describeNoEndpoints, type LoadBalancer } from "../outbound/concrete.ts";
import { pickCluster } from "../outbound/logical.ts";
import { routingTableFor, type CompiledRoute, type CompiledVirtualHost } from "../outbound/routing-table.ts";
import type { ResponseFlag } from "../response-flags.ts";
import type { Telemetry } from "../telemetry/index.ts";
import { openOutboundTcpRecord, type TcpRecord, type WorkloadLabels } from "../telemetry/records.ts";
import { TCP_ALPN } from "../transport/mesh-tls.ts";
import type { Peer } from "../transport/peer.ts";
import type { UpstreamTlsProvider } from "../transport/upstream-tls.ts";
import type { Logger } from "../options.ts";

export type OutboundTcpDeps = {
  upstream: string;
  currentSnapshot: () => Snapshot | null;
  balancer: LoadBalancer;
  telemetry: Telemetry;
  upstreamTls: UpstreamTlsProvider;
  source: WorkloadLabels;
  log: Logger;
};

/** The connection handler of an outbound TCP listener. */
export function createOutboundTcpHandler(deps: OutboundTcpDeps): (socket: net.Socket) => void {
  const { upstream, balancer, telemetry, log } = deps;
  const warned = new Set<string>();
  const refuse = (socket: net.Socket, record: TcpRecord, flag: ResponseFlag, why: string) => {
    // A TCP client has no status line to read the reason from, so it goes to the log (once per reason).
    if (!warned.has(why)) {
      warned.add(why);
      log.warn(`TCP pass-through to "${upstream}": closing the app's connection (${flag}): ${why}`);
    }
    socket.destroy();
    telemetry.recordTcp({ ...record, durationMs: Date.now() - record.startTimeMs, flags: [flag] });
  };

  return (socket) => {
    const record = openOutboundTcpRecord(deps.source, upstream);
    socket.on("error", () => {});
    const snapshot = deps.currentSnapshot();
    const table = snapshot === null ? null : routingTableFor(snapshot);
    const host = table?.virtualHosts.get(upstream);
    const route = host === undefined ? null : tcpRoute(host);
    if (route === null) return refuse(socket, record, "NR", `the config has no route for upstream "${upstream}"`);
    const cluster = pickCluster(route);
    if (cluster === null) return refuse(socket, record, "UH", `route ${route.label} has no destination`);
    record.upstreamCluster = cluster.name;
    record.destinationService = cluster.service;
    const tlsOptions = deps.upstreamTls(cluster.name);
    // The peer's mesh port tells TCP from HTTP by ALPN, which needs TLS: there is no plaintext TCP hop.
    if (tlsOptions === null) return refuse(socket, record, "UF", `cluster "${cluster.name}" is not mTLS (no certificate, or PeerAuthentication DISABLE); TCP pass-through runs over mTLS only`);
    const endpoint = balancer.pick(cluster);
    if (endpoint === null) return refuse(socket, record, "UH", describeNoEndpoints(cluster));
    record.upstreamHost = `${endpoint.target.host}:${endpoint.target.port}`;
    record.destination = { workload: endpoint.workloadId, app: endpoint.labels.app ?? cluster.service, version: endpoint.version, namespace: deps.source.namespace };
    record.mtls = true;

    const peer = tls.connect({ ...tlsOptions.options, host: endpoint.target.host, port: endpoint.target.port, ALPNProtocols: [TCP_ALPN] });
    void pipeBothWays(socket, peer, "secureConnect").then((flag) => {
      balancer.release(endpoint);
      if (flag === "UF") log.warn(`TCP pass-through to "${upstream}": could not connect to ${endpoint.description}`);
      telemetry.recordTcp({ ...record, durationMs: Date.now() - record.startTimeMs, sentBytes: socket.bytesWritten, receivedBytes: socket.bytesRead, flags: flag === null ? [] : [flag] });
    });
  };
}

export type InboundTcpDeps = { appTcpPort: number; telemetry: Telemetry; destination: WorkloadLabels };

/** The inbound side: a verified mTLS socket (ALPN trellis-tcp) joined to the app's TCP port. */
export function createInboundTcpHandler({ appTcpPort, telemetry, destination }: InboundTcpDeps): (socket: tls.TLSSocket, peer: Peer) => void {
  return (socket, peer) => {
    const startTimeMs = Date.now();
    socket.on("error", () => {});
    const app = net.connect(appTcpPort, "127.0.0.1");
    void pipeBothWays(socket, app, "connect").then((flag) => {
      telemetry.recordTcp({
        reporter: "destination",
        startTimeMs,
        durationMs: Date.now() - startTimeMs,
        sentBytes: socket.bytesWritten,
        receivedBytes: socket.bytesRead,
        flags: flag === null ? [] : [flag],
        upstreamHost: `127.0.0.1:${appTcpPort}`,
        upstreamCluster: null,
        source: null,
        destination,
        destinationService: destination.app,
        sourcePrincipal: peer.identity?.id ?? null,
        destinationPrincipal: null,
        mtls: peer.mtls,
      });
    });
  };
}

/**
 * Joins a downstream socket to an upstream one being connected; resolves when both are closed with UF (the upstream
 * never connected: the downstream is closed), UC (the upstream failed after connecting) or null.
 */
export function pipeBothWays(downstream: net.Socket, upstream: net.Socket, connectedEvent: "connect" | "secureConnect"): Promise<ResponseFlag | null> {
  return new Promise((resolve) => {
    let connected = false;
    let flag: ResponseFlag | null = null;
    upstream.once(connectedEvent, () => (connected = true));
    upstream.on("error", () => {
      flag ??= connected ? "UC" : "UF";
      downstream.destroy();
    });
    downstream.on("error", () => upstream.destroy());
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    let open = 2;
    const onClose = () => {
      // Either side closing fully ends the pair (a half-close travels through the pipes' end() first).
      downstream.destroy();
      upstream.destroy();
      open -= 1;
      if (open === 0) resolve(flag);
    };
    downstream.once("close", onClose);
    upstream.once("close", onClose);
  });
}

/** TCP has no path or headers: the first route that matches everything (Istio's tcp route), else the first route. */
function tcpRoute(host: CompiledVirtualHost): CompiledRoute | null {
  for (const route of host.routes) if (route.matches.length === 0) return route;
  return host.routes[0] ?? null;
}
