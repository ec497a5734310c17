// Outbound HTTP/2 (h2c from the app, gRPC included): the same logical layer (virtual host → route → weighted
// cluster, fault) as HTTP/1.1, then the attempt loop of h2-exchange.ts (breakers, outlier detection, retries, the
// retry budget, per-try and route timeouts — the HTTP/1.1 path's modules) sends the stream as HTTP/2 to the peer
// sidecar on one multiplexed session per endpoint: h2 over mTLS (ALPN h2) when the cluster is mTLS, h2c otherwise
// ("use downstream protocol", as Envoy's USE_DOWNSTREAM_PROTOCOL).
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Snapshot } from "@trellis/mesh-config";
import type { Resilience } from "../outbound/cluster-state.ts";
import type { LoadBalancer } from "../outbound/concrete.ts";
import type { UpstreamTlsProvider as UpstreamTls } from "../transport/upstream-tls.ts";
import { decideFault } from "../outbound/fault.ts";
import { describeNoRoute, findRoute, pickCluster } from "../outbound/logical.ts";
import { routingTableFor, type CompiledCluster, type CompiledEndpoint, type CompiledRoute } from "../outbound/routing-table.ts";
import { faultAbortReply, localReply, type LocalReply } from "../response-flags.ts";
import type { HttpSpan, Telemetry, TraceContext } from "../telemetry/index.ts";
import type { WorkloadLabels } from "../telemetry/records.ts";
import { PEER_METADATA_HEADER } from "../transport/peer-metadata.ts";
import { forwardH2WithRetries, type H2Run } from "./h2-exchange.ts";
import { answerH2Locally, type H2Outcome } from "./h2-forward.ts";
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
  /** Breakers, outlier detection and retry budgets per cluster, shared with the HTTP/1.1 listeners. */
  resilience: Resilience;
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
    telemetry.inject(client, outgoing);
    const decided: Decided = { route: null, cluster: null, endpoint: null, mtls: false, attempts: 0 };

    void routeStream(deps, stream, headers, outgoing, grpc, path, method, client, parent, decided).then((outcome) => {
      // A no-op when a retry already ended the first attempt's span with that attempt's outcome.
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
          spanContext: client,
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
  client: HttpSpan,
  parent: TraceContext | null,
  decided: Decided,
): Promise<H2Outcome> {
  const { upstream } = deps;
  const local = (reply: LocalReply) => answerH2Locally(stream, reply, grpc);
  const snapshot = deps.currentSnapshot();
  const table = snapshot === null ? null : routingTableFor(snapshot);
  if (table === null) return local(localReply("NR", `no config from the control plane yet, so no route to "${upstream}"`));
  const host = table.virtualHosts.get(upstream);
  const route = host === undefined ? null : findRoute(host, path, method, headers);
  if (route === null) return local(localReply("NR", describeNoRoute(upstream, host, method, path)));
  decided.route = route;
  client.routeName = route.name;
  const cluster = pickCluster(route);
  if (cluster === null) return local(localReply("UH", `route ${route.label} has no destination`));
  decided.cluster = cluster;
  client.cluster = cluster.name;
  client.destinationSubset = cluster.subset ?? undefined;

  if (route.fault !== undefined) {
    const fault = decideFault(route.fault);
    if (fault.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (stream.closed) return { status: null, flag: "DC", grpcStatus: null, requestBytes: 0, responseBytes: 0 };
    if (fault.abortStatus !== null) return local(faultAbortReply(fault.abortStatus, route.label));
  }

  const run: H2Run = { stream, grpc, method, path, route, cluster, headers: outgoing, firstSpan: client, parent, attempts: 0, endpoint: null, flags: [], mtls: false };
  const outcome = await forwardH2WithRetries(deps, run);
  decided.endpoint = run.endpoint;
  decided.attempts = run.attempts;
  decided.mtls = run.mtls;
  return outcome;
}
