// Outbound HTTP/2 (h2c from the app, gRPC included): the same logical layer (virtual host → route → weighted
// cluster, fault) and concrete layer (balancer pick/release) as HTTP/1.1, then the request stream is forwarded as
// HTTP/2 to the peer sidecar on one multiplexed session per endpoint: h2 over mTLS (ALPN h2) when the cluster is
// mTLS, h2c otherwise ("use downstream protocol", as Envoy's USE_DOWNSTREAM_PROTOCOL).
import type { ClientHttp2Session, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Span } from "@opentelemetry/api";
import type { Snapshot } from "@trellis/mesh-config";
import { describeNoEndpoints, type LoadBalancer } from "../outbound/concrete.ts";
import type { UpstreamTlsProvider as UpstreamTls } from "../transport/upstream-tls.ts";
import { decideFault } from "../outbound/fault.ts";
import { describeNoRoute, findRoute, pickCluster } from "../outbound/logical.ts";
import { routingTableFor, type CompiledCluster, type CompiledEndpoint, type CompiledRoute } from "../outbound/routing-table.ts";
import { faultAbortReply, localReply, type LocalReply } from "../response-flags.ts";
import { contextWithSpan, type Telemetry } from "../telemetry/index.ts";
import type { WorkloadLabels } from "../telemetry/records.ts";
import { PEER_METADATA_HEADER } from "../transport/peer-metadata.ts";
import { answerH2Locally, forwardH2, type H2Outcome } from "./h2-forward.ts";
import { isGrpc, toUpstreamH2Headers } from "./h2-headers.ts";
import { buildH2Record } from "./h2-record.ts";
import type { H2SessionPool } from "./h2-session-pool.ts";
import { pathOf } from "./request-info.ts";

export type H2StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

export type H2OutboundDeps = {
  /** The service this listener sends to. */
  upstream: string;
  currentSnapshot: () => Snapshot | null;
  balancer: LoadBalancer;
  telemetry: Telemetry;
  pool: H2SessionPool;
  /** TLS client options (certificate, key, root, peer check) to originate mTLS to a cluster; null sends h2c. */
  upstreamTls: UpstreamTls;
  /** This workload, the source of every request. */
  source: WorkloadLabels;
  /** encodePeerMetadata(source), computed once: the peer's inbound reads its source labels from it. */
  peerMetadata: string;
};

/** What the record of one exchange needs beyond the outcome, filled in as the layers decide. */
type Decided = { route: CompiledRoute | null; cluster: CompiledCluster | null; endpoint: CompiledEndpoint | null; mtls: boolean; attempts: number };

export function createOutboundH2Handler(deps: H2OutboundDeps): H2StreamHandler {
  const { upstream, telemetry } = deps;
  return (stream, headers) => {
    const startTimeMs = Date.now();
    const method = headers[":method"] ?? "GET";
    const path = pathOf(headers[":path"]);
    const grpc = isGrpc(headers);
    const parent = telemetry.extract(headers);
    const client = telemetry.startHttpSpan({ kind: "client", method, path, serverAddress: upstream, upstreamService: upstream, parent });
    const outgoing = toUpstreamH2Headers(headers, stream.session?.socket.remoteAddress);
    // Whatever the app sent under this name is replaced: only the sidecar vouches for who the source is.
    outgoing[PEER_METADATA_HEADER] = deps.peerMetadata;
    telemetry.inject(contextWithSpan(parent, client), outgoing);
    const decided: Decided = { route: null, cluster: null, endpoint: null, mtls: false, attempts: 0 };

    void routeStream(deps, stream, headers, outgoing, grpc, path, method, client, decided).then((outcome) => {
      telemetry.endHttpSpan(client, outcome);
      const { endpoint, cluster, route } = decided;
      telemetry.recordRequest(
        buildH2Record(headers, outgoing["x-request-id"], grpc, startTimeMs, outcome, {
          reporter: "source",
          attempts: decided.attempts,
          upstreamHost: endpoint === null ? null : `${endpoint.target.host}:${endpoint.target.port}`,
          upstreamCluster: cluster?.name ?? null,
          routeName: route?.label ?? null,
          source: deps.source,
          destination:
            endpoint === null || cluster === null
              ? null
              : { workload: endpoint.workloadId, app: endpoint.labels.app ?? cluster.service, version: endpoint.version, namespace: deps.source.namespace },
          destinationService: cluster?.service ?? upstream,
          sourcePrincipal: null,
          destinationPrincipal: null,
          mtls: decided.mtls,
        }),
      );
    });
  };
}

async function routeStream(
  deps: H2OutboundDeps,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  outgoing: ReturnType<typeof toUpstreamH2Headers>,
  grpc: boolean,
  path: string,
  method: string,
  client: Span,
  decided: Decided,
): Promise<H2Outcome> {
  const { upstream, balancer } = deps;
  const local = (reply: LocalReply) => answerH2Locally(stream, reply, grpc);
  const snapshot = deps.currentSnapshot();
  const table = snapshot === null ? null : routingTableFor(snapshot);
  if (table === null) return local(localReply("NR", `no config from the control plane yet, so no route to "${upstream}"`));
  const host = table.virtualHosts.get(upstream);
  const route = host === undefined ? null : findRoute(host, path, method, headers);
  if (route === null) return local(localReply("NR", describeNoRoute(upstream, host, method, path)));
  decided.route = route;
  if (route.name !== undefined) client.setAttribute("trellis.route_name", route.name);
  const cluster = pickCluster(route);
  if (cluster === null) return local(localReply("UH", `route ${route.label} has no destination`));
  decided.cluster = cluster;
  client.setAttribute("trellis.cluster", cluster.name);

  if (route.fault !== undefined) {
    const fault = decideFault(route.fault);
    if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (stream.closed) return { status: null, flag: "DC", grpcStatus: null, requestBytes: 0, responseBytes: 0 };
    if (fault.abortStatus !== null) return local(faultAbortReply(fault.abortStatus, route.label));
  }

  const tls = deps.upstreamTls(cluster.name);
  decided.mtls = tls !== null;
  // Retries happen only where nothing of the request has left yet: a new session that fails to connect is retried
  // on a fresh pick when the route's policy retries connect-failure (Istio's default does). Once a stream is open
  // the request body is flowing and is not replayed.
  const retries = route.retry.onConnectFailure ? route.retry.retries : 0;
  for (let attempt = 1; ; attempt += 1) {
    const endpoint = balancer.pick(cluster);
    if (endpoint === null) return local(localReply("UH", describeNoEndpoints(cluster)));
    decided.endpoint = endpoint;
    decided.attempts = attempt;
    client.setAttributes({ "server.address": endpoint.target.host, "server.port": endpoint.target.port, "trellis.destination_workload": endpoint.workloadId });
    try {
      const session = deps.pool.session(endpoint.target, tls);
      if (attempt <= retries && session.connecting && !(await whenConnected(session))) {
        if (stream.closed) return { status: null, flag: "DC", grpcStatus: null, requestBytes: 0, responseBytes: 0 };
        deps.telemetry.recordClusterEvent(cluster.name, "retry");
        continue;
      }
      return await forwardH2({ downstream: stream, session, headers: outgoing, describeTarget: endpoint.description, grpc, timeoutMs: route.timeoutMs });
    } finally {
      balancer.release(endpoint);
    }
  }
}

/** Resolves true once a connecting session is up, false when it fails first. */
function whenConnected(session: ClientHttp2Session): Promise<boolean> {
  return new Promise((resolve) => {
    const onConnect = () => {
      session.off("close", onClose);
      resolve(true);
    };
    const onClose = () => {
      session.off("connect", onConnect);
      resolve(false);
    };
    session.once("connect", onConnect);
    session.once("close", onClose);
  });
}
