// WebSocket (HTTP/1.1 Upgrade) through the sidecar: the upgrade request goes to the destination like any request
// (outbound: logical and concrete layers; inbound: the app), and once it answers 101 the two sockets are piped
// both ways and the connection is reported as TCP. Any other answer is passed back and the connection closed;
// failures before the 101 get the usual local replies (404 NR, 503 UH/UF) written on the raw socket.
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import type { ConnectionOptions } from "node:tls";
import type { Snapshot } from "@trellis/mesh-config";
import { describeNoEndpoints, type LoadBalancer } from "../outbound/concrete.ts";
import { describeNoRoute, findRoute, pickCluster } from "../outbound/logical.ts";
import type { UpstreamTlsProvider as UpstreamTls } from "../transport/upstream-tls.ts";
import { routingTableFor } from "../outbound/routing-table.ts";
import { flagForUpstreamError, localReply, RESPONSE_FLAGS_HEADER, type LocalReply, type ResponseFlag } from "../response-flags.ts";
import type { Telemetry } from "../telemetry/index.ts";
import { openOutboundTcpRecord, type WorkloadLabels } from "../telemetry/records.ts";
import { peerOf } from "../transport/peer.ts";
import { createPeerMetadataDecoder, PEER_METADATA_HEADER } from "../transport/peer-metadata.ts";
import type { ForwardTarget } from "./forward.ts";
import type { UpstreamTlsOptions } from "./h2-session-pool.ts";
import { toUpstreamHeaders } from "./headers.ts";
import { pathOf } from "./request-info.ts";

export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

/** How a tunnel ended: the status of the upgrade answer, a flag if the proxy shaped it, bytes each way. */
export type TunnelOutcome = { status: number | null; flag: ResponseFlag | null; sentBytes: number; receivedBytes: number };

export type OutboundUpgradeDeps = {
  upstream: string;
  currentSnapshot: () => Snapshot | null;
  balancer: LoadBalancer;
  telemetry: Telemetry;
  upstreamTls: UpstreamTls;
  source: WorkloadLabels;
  /** encodePeerMetadata(source), computed once: the peer's inbound reads its source labels from it. */
  peerMetadata: string;
};

export function createOutboundUpgradeHandler(deps: OutboundUpgradeDeps): UpgradeHandler {
  const { upstream, telemetry, balancer } = deps;
  return (req, socket, head) => {
    const startTimeMs = Date.now();
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    const parent = telemetry.extract(req.headers);
    const span = telemetry.startHttpSpan({ kind: "client", method, path, serverAddress: upstream, upstreamService: upstream, parent });
    const record = openOutboundTcpRecord(deps.source, upstream, startTimeMs);
    const finish = (outcome: TunnelOutcome) => {
      telemetry.endHttpSpan(span, outcome);
      if (outcome.status !== 101) return; // no tunnel: nothing for the TCP metrics
      telemetry.recordTcp({ ...record, durationMs: Date.now() - startTimeMs, sentBytes: outcome.sentBytes, receivedBytes: outcome.receivedBytes, flags: outcome.flag === null ? [] : [outcome.flag] });
    };

    const snapshot = deps.currentSnapshot();
    const table = snapshot === null ? null : routingTableFor(snapshot);
    const host = table?.virtualHosts.get(upstream);
    const route = host === undefined ? null : findRoute(host, path, method, req.headers);
    if (table === null || route === null) {
      const detail = table === null ? `no config from the control plane yet, so no route to "${upstream}"` : describeNoRoute(upstream, host, method, path);
      finish(rejectUpgrade(socket, localReply("NR", detail)));
      return;
    }
    const cluster = pickCluster(route);
    const endpoint = cluster === null ? null : balancer.pick(cluster);
    if (cluster === null || endpoint === null) {
      finish(rejectUpgrade(socket, localReply("UH", cluster === null ? `route ${route.label} has no destination` : describeNoEndpoints(cluster))));
      return;
    }
    const tls = deps.upstreamTls(cluster.name);
    record.upstreamHost = `${endpoint.target.host}:${endpoint.target.port}`;
    record.upstreamCluster = cluster.name;
    record.destination = { workload: endpoint.workloadId, app: endpoint.labels.app ?? cluster.service, version: endpoint.version, namespace: deps.source.namespace };
    record.destinationService = cluster.service;
    record.mtls = tls !== null;
    span.cluster = cluster.name;
    span.setEndpoint(endpoint.target.host, endpoint.target.port, endpoint.workloadId);
    const headers = upgradeHeaders(req);
    headers[PEER_METADATA_HEADER] = deps.peerMetadata;
    telemetry.inject(span, headers);
    void forwardUpgrade({ req, socket, head, target: endpoint.target, tls, headers, describeTarget: endpoint.description }).then((outcome) => {
      balancer.release(endpoint);
      finish(outcome);
    });
  };
}

export type InboundUpgradeDeps = { appPort: number; telemetry: Telemetry; destination: WorkloadLabels };

export function createInboundUpgradeHandler({ appPort, telemetry, destination }: InboundUpgradeDeps): UpgradeHandler {
  const target = { host: "127.0.0.1", port: appPort };
  const describeTarget = `the app on 127.0.0.1:${appPort}`;
  const decodePeer = createPeerMetadataDecoder();
  return (req, socket, head) => {
    const startTimeMs = Date.now();
    const parent = telemetry.extract(req.headers);
    const span = telemetry.startHttpSpan({ kind: "server", method: req.method ?? "GET", path: pathOf(req.url), serverAddress: req.headers.host ?? "", serverPort: req.socket.localPort, parent });
    const headers = upgradeHeaders(req);
    const source = decodePeer(req.headers[PEER_METADATA_HEADER]);
    delete headers[PEER_METADATA_HEADER]; // mesh-internal; the app has no use for it
    telemetry.inject(span, headers);
    const peer = peerOf(req.socket);
    void forwardUpgrade({ req, socket, head, target, tls: null, headers, describeTarget }).then((outcome) => {
      telemetry.endHttpSpan(span, outcome);
      if (outcome.status !== 101) return;
      telemetry.recordTcp({
        reporter: "destination",
        startTimeMs,
        durationMs: Date.now() - startTimeMs,
        sentBytes: outcome.sentBytes,
        receivedBytes: outcome.receivedBytes,
        flags: outcome.flag === null ? [] : [outcome.flag],
        upstreamHost: `127.0.0.1:${appPort}`,
        upstreamCluster: null,
        source,
        destination,
        destinationService: destination.app,
        sourcePrincipal: peer.identity?.id ?? null,
        destinationPrincipal: null,
        mtls: peer.mtls,
      });
    });
  };
}

/** The request's headers for the next hop, with the Upgrade handshake (hop-by-hop by nature) put back. */
function upgradeHeaders(req: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress });
  headers.connection = "Upgrade";
  headers.upgrade = req.headers.upgrade ?? "websocket";
  return headers;
}

type UpgradeRequest = {
  req: http.IncomingMessage;
  socket: Duplex;
  head: Buffer;
  target: ForwardTarget;
  tls: UpstreamTlsOptions | null;
  headers: http.OutgoingHttpHeaders;
  describeTarget: string;
};

/** Sends the upgrade request on, and on 101 joins the two connections until either side closes. */
export function forwardUpgrade({ req, socket, head, target, tls, headers, describeTarget }: UpgradeRequest): Promise<TunnelOutcome> {
  return new Promise((resolve) => {
    const outcome: TunnelOutcome = { status: null, flag: null, sentBytes: 0, receivedBytes: 0 };
    let connected = false;
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const options = { host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: false as const };
    // https.request hands TLS options (ALPN included) to tls.connect when it makes the connection itself.
    const secure: https.RequestOptions & ConnectionOptions = { ...options, ...tls?.options, ALPNProtocols: ["http/1.1"] };
    const upstream = tls === null ? http.request(options) : https.request(secure);
    upstream.on("socket", (s) => s.once(tls === null ? "connect" : "secureConnect", () => (connected = true)));
    socket.on("error", () => {});

    upstream.on("upgrade", (res, upstreamSocket, upstreamHead) => {
      outcome.status = 101;
      socket.write(responseHead(res));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      outcome.sentBytes += upstreamHead.length;
      outcome.receivedBytes += head.length;
      upstreamSocket.on("data", (chunk: Buffer) => (outcome.sentBytes += chunk.length));
      socket.on("data", (chunk: Buffer) => (outcome.receivedBytes += chunk.length));
      upstreamSocket.on("error", () => {
        outcome.flag ??= "UC";
        socket.destroy();
      });
      socket.on("error", () => upstreamSocket.destroy());
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
      let open = 2;
      const onClose = () => {
        upstreamSocket.destroy();
        socket.destroy();
        open -= 1;
        if (open === 0) settle();
      };
      upstreamSocket.once("close", onClose);
      socket.once("close", onClose);
    });

    upstream.on("response", (res) => {
      // Not upgraded (e.g. 400 from the app, or a peer's 404 NR): pass the answer back and close.
      outcome.status = res.statusCode ?? 502;
      const flag = res.headers[RESPONSE_FLAGS_HEADER];
      if (typeof flag === "string") outcome.flag = flag as ResponseFlag;
      socket.write(responseHead(res, true));
      res.pipe(socket);
      res.on("end", () => socket.end());
      socket.once("close", settle);
    });

    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (outcome.status !== null) return;
      const ended = rejectUpgrade(socket, localReply(flagForUpstreamError({ connected }), `${describeTarget}: ${error.code ?? error.message}`));
      Object.assign(outcome, ended);
      settle();
    });
    socket.once("close", () => {
      if (outcome.status === null) {
        outcome.flag = "DC";
        upstream.destroy();
        settle();
      }
    });
    upstream.end();
  });
}

/** An answer from the proxy itself on a socket that asked to upgrade; the connection closes after it. */
export function rejectUpgrade(socket: Duplex, reply: LocalReply): TunnelOutcome {
  const body = reply.body;
  socket.end(
    `HTTP/1.1 ${reply.status} ${http.STATUS_CODES[reply.status] ?? ""}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `${RESPONSE_FLAGS_HEADER}: ${reply.flag}\r\nconnection: close\r\n\r\n${body}`,
  );
  return { status: reply.status, flag: reply.flag, sentBytes: 0, receivedBytes: 0 };
}

/** The status line and headers of an upstream answer, as received (raw, so the handshake headers stay intact). */
function responseHead(res: http.IncomingMessage, close = false): string {
  let head = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ""}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    if (close && (name.toLowerCase() === "connection" || name.toLowerCase() === "keep-alive")) continue;
    head += `${name}: ${raw[i + 1] ?? ""}\r\n`;
  }
  if (close) head += "connection: close\r\n";
  return `${head}\r\n`;
}
