// One outbound listener's request path, layer by layer: logical (virtual host → route → weighted cluster, plus
// the route's fault injection and mirroring), concrete (circuit breakers, outlier-filtered endpoint pick, retries
// with budget: exchange.ts), endpoint (the hop's headers, the cluster's pool with its TLS). A gateway runs the same
// path behind a SERVER span of its own. Every request ends with one record for metrics and the access log.
import type { Http1Handler, Http1Request, Http1Response } from "../http1/types.ts";
import type { Snapshot } from "@trellis/mesh-config";
import { sendLocalReply, waitForExchange, type ExchangeOutcome } from "../proxy/forward.ts";
import { hostOf, pathOf } from "../proxy/request-info.ts";
import { faultAbortReply, localReply, type LocalReply, type ResponseFlag } from "../response-flags.ts";
import type { HttpSpan, Telemetry, TraceContext } from "../telemetry/index.ts";
import type { RequestRecord, WorkloadLabels } from "../telemetry/records.ts";
import type { Resilience } from "./cluster-state.ts";
import type { LoadBalancer } from "./concrete.ts";
import { forwardWithRetries, type OutboundRun } from "./exchange.ts";
import { decideFault, holdRequest, type FaultDecision } from "./fault.ts";
import { describeNoRoute, findRoute, pickCluster } from "./logical.ts";
import { routingTableFor, type CompiledCluster, type CompiledRoute } from "./routing-table.ts";

export type OutboundDeps = {
  /** The service this listener sends to. */
  upstream: string;
  /** The config in force; read once per request so a push never changes a request half-way. */
  currentSnapshot: () => Snapshot | null;
  balancer: LoadBalancer;
  telemetry: Telemetry;
  /** Per-cluster breakers, pools, outlier detection and retry budget, shared by every listener of the sidecar. */
  resilience: Resilience;
  /** This workload, as the peer-metadata header and the records' source describe it. */
  source: WorkloadLabels;
  /** The precomputed x-trellis-peer-metadata value (transport/peer-metadata.ts encodePeerMetadata). */
  peerMetadata: string;
  /** Gateway mode: the incoming request gets a SERVER span, and the CLIENT span is its child. */
  serverSpan: boolean;
};

/** One request on its way through the layers, and what the record at its end says. */
type Exchange = {
  req: Http1Request;
  res: Http1Response;
  method: string;
  path: string;
  client: HttpSpan;
  /** What the CLIENT spans hang under: the caller's context, the gateway's SERVER span, or null (a new trace). */
  parent: TraceContext | null;
  startTimeMs: number;
  namespace: string;
  route: CompiledRoute | null;
  run: OutboundRun | null;
  /** The flag of a local answer given before any attempt (NR, UH, FI, DI…). */
  localFlag: ResponseFlag | null;
};

export function createOutboundHandler(deps: OutboundDeps): Http1Handler {
  const { upstream, telemetry, serverSpan } = deps;
  return (req, res) => {
    const startTimeMs = Date.now();
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    const caller = telemetry.extract(req.headers);
    const server = serverSpan
      ? telemetry.startHttpSpan({ kind: "server", method, path, serverAddress: hostOf(req), serverPort: req.socket.localPort, parent: caller })
      : null;
    const parent = server ?? caller;
    const client = telemetry.startHttpSpan({ kind: "client", method, path, serverAddress: upstream, upstreamService: upstream, parent });
    const x: Exchange = { req, res, method, path, client, parent, startTimeMs, namespace: deps.source.namespace, route: null, run: null, localFlag: null };

    void routeRequest(deps, x).then((end) => {
      // A no-op when a retry already ended the first attempt's span with that attempt's outcome.
      telemetry.endHttpSpan(client, end);
      if (server) telemetry.endHttpSpan(server, end);
      telemetry.recordRequest(buildRecord(deps, x, end));
    });
  };
}

/** Logical layer: the snapshot read once, then virtual host, route, destination cluster and fault. */
function routeRequest(deps: OutboundDeps, x: Exchange): Promise<ExchangeOutcome> {
  const { upstream } = deps;
  const snapshot = deps.currentSnapshot();
  const table = snapshot === null ? null : routingTableFor(snapshot);
  if (snapshot === null || table === null) return answerLocally(x, localReply("NR", `no config from the control plane yet, so no route to "${upstream}"`));
  x.namespace = snapshot.namespace;
  const host = table.virtualHosts.get(upstream);
  const route = host === undefined ? null : findRoute(host, x.path, x.method, x.req.headers);
  if (route === null) return answerLocally(x, localReply("NR", describeNoRoute(upstream, host, x.method, x.path)));
  x.route = route;
  x.client.routeName = route.name;

  const cluster = pickCluster(route);
  // The config store only accepts snapshots whose routes have a destination with weight, so this is defensive.
  if (cluster === null) return answerLocally(x, localReply("UH", `route ${route.label} has no destination`));
  x.client.cluster = cluster.name;
  x.client.destinationSubset = cluster.subset ?? undefined;

  if (route.fault === undefined) return forwardToCluster(deps, x, route, cluster);
  const fault = decideFault(route.fault);
  if (fault.delayMs > 0) return forwardAfterDelay(deps, x, route, cluster, fault);
  if (fault.abortStatus !== null) return answerLocally(x, faultAbortReply(fault.abortStatus, route.label));
  return forwardToCluster(deps, x, route, cluster);
}

/** Concrete and endpoint layers: the attempt loop, with breakers, outlier detection, retries and mirroring. */
async function forwardToCluster(deps: OutboundDeps, x: Exchange, route: CompiledRoute, cluster: CompiledCluster): Promise<ExchangeOutcome> {
  const run: OutboundRun = {
    req: x.req,
    res: x.res,
    method: x.method,
    path: x.path,
    route,
    cluster,
    firstSpan: x.client,
    parent: x.parent,
    attempts: 0,
    endpoint: null,
    flags: [],
    requestId: null,
    requestBytes: 0,
    responseBytes: 0,
    mtls: false,
  };
  x.run = run;
  const status = await forwardWithRetries(deps, run);
  return { status, flag: run.flags[0] ?? null };
}

/** The fault's delay, then its abort or the real exchange; DI marks the delay unless a later flag says more. */
async function forwardAfterDelay(deps: OutboundDeps, x: Exchange, route: CompiledRoute, cluster: CompiledCluster, fault: FaultDecision): Promise<ExchangeOutcome> {
  const callerStayed = await holdRequest(x.res, fault.delayMs);
  if (!callerStayed) {
    x.localFlag = "DC";
    return { status: null, flag: "DC" };
  }
  const end = fault.abortStatus === null ? await forwardToCluster(deps, x, route, cluster) : await answerLocally(x, faultAbortReply(fault.abortStatus, route.label));
  if (end.flag !== null) return end;
  x.localFlag = "DI";
  return { status: end.status, flag: "DI" };
}

function answerLocally(x: Exchange, reply: LocalReply): Promise<ExchangeOutcome> {
  x.localFlag = reply.flag;
  sendLocalReply(x.res, reply);
  return waitForExchange(x.res, reply.flag);
}

function buildRecord(deps: OutboundDeps, x: Exchange, end: ExchangeOutcome): RequestRecord {
  const { req, run } = x;
  const endpoint = run?.endpoint ?? null;
  const flags: ResponseFlag[] = run === null ? [] : [...run.flags];
  if (x.localFlag !== null && !flags.includes(x.localFlag)) flags.push(x.localFlag);
  if (flags.length === 0 && end.flag !== null) flags.push(end.flag);
  const cluster = run?.cluster ?? null;
  const contentType = req.headers["content-type"];
  return {
    reporter: "source",
    protocol: typeof contentType === "string" && contentType.startsWith("application/grpc") ? "grpc" : "http",
    httpVersion: `HTTP/${req.httpVersion === "2.0" ? "2" : req.httpVersion}`,
    method: x.method,
    path: req.url ?? "/",
    authority: req.headers.host ?? "",
    requestId: run?.requestId ?? (typeof req.headers["x-request-id"] === "string" ? req.headers["x-request-id"] : null),
    userAgent: req.headers["user-agent"] ?? null,
    startTimeMs: x.startTimeMs,
    durationMs: Date.now() - x.startTimeMs,
    status: end.status,
    grpcStatus: null,
    flags,
    requestBytes: run?.requestBytes ?? 0,
    responseBytes: run?.responseBytes ?? 0,
    attempts: run?.attempts ?? 0,
    upstreamHost: endpoint?.address ?? null,
    upstreamCluster: cluster?.name ?? null,
    routeName: x.route === null ? null : (x.route.name ?? x.route.label),
    source: deps.source,
    destination:
      endpoint === null ? null : { workload: endpoint.workloadId, app: endpoint.labels.app ?? cluster?.service ?? deps.upstream, version: endpoint.labels.version ?? endpoint.version, namespace: x.namespace },
    destinationService: cluster?.service ?? deps.upstream,
    sourcePrincipal: null,
    destinationPrincipal: null,
    mtls: run?.mtls ?? false,
    spanContext: x.client,
  };
}
