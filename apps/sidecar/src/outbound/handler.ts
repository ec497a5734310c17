// One outbound listener's request path, layer by layer: logical (virtual host → route → weighted cluster, plus
// the route's fault injection), concrete (cluster → endpoint by the load balancer), endpoint (connection, with
// the route's timeout). A gateway runs the same path behind a SERVER span of its own. Retries (issue 4) wrap
// forwardToCluster — each attempt a fresh pick — and mirroring hangs off the chosen route; neither changes the
// layers around them.
import type http from "node:http";
import type { Context, Span } from "@opentelemetry/api";
import type { Snapshot } from "@trellis/mesh-config";
import { sendLocalReply, waitForExchange, type ExchangeOutcome } from "../proxy/forward.ts";
import { hostOf, pathOf } from "../proxy/request-info.ts";
import { faultAbortReply, localReply, type LocalReply } from "../response-flags.ts";
import { contextWithSpan, type Telemetry } from "../telemetry/index.ts";
import { describeNoEndpoints, type LoadBalancer } from "./concrete.ts";
import { forwardToEndpoint } from "./endpoint.ts";
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
  agent: http.Agent;
  /** Gateway mode: the incoming request gets a SERVER span, and the CLIENT span is its child. */
  serverSpan: boolean;
};

/** One request on its way through the layers. */
type Exchange = { req: http.IncomingMessage; res: http.ServerResponse; method: string; path: string; client: Span; parent: Context };

export function createOutboundHandler(deps: OutboundDeps): http.RequestListener {
  const { upstream, telemetry, serverSpan } = deps;
  return (req, res) => {
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    let parent = telemetry.extract(req.headers);
    const server = serverSpan
      ? telemetry.startHttpSpan({ kind: "server", method, path, serverAddress: hostOf(req), serverPort: req.socket.localPort, parent })
      : null;
    if (server) parent = contextWithSpan(parent, server);
    const client = telemetry.startHttpSpan({ kind: "client", method, path, serverAddress: upstream, upstreamService: upstream, parent });

    void routeRequest(deps, { req, res, method, path, client, parent }).then((end) => {
      telemetry.endHttpSpan(client, end);
      if (server) telemetry.endHttpSpan(server, end);
    });
  };
}

/** Logical layer: the snapshot read once, then virtual host, route, destination cluster and fault. */
function routeRequest(deps: OutboundDeps, x: Exchange): Promise<ExchangeOutcome> {
  const { upstream } = deps;
  const snapshot = deps.currentSnapshot();
  const table = snapshot === null ? null : routingTableFor(snapshot);
  if (table === null) return answerLocally(x.res, localReply("NR", `no config from the control plane yet, so no route to "${upstream}"`));
  const host = table.virtualHosts.get(upstream);
  const route = host === undefined ? null : findRoute(host, x.path, x.method, x.req.headers);
  if (route === null) return answerLocally(x.res, localReply("NR", describeNoRoute(upstream, host, x.method, x.path)));
  if (route.name !== undefined) x.client.setAttribute("trellis.route_name", route.name);

  const cluster = pickCluster(route);
  // The config store only accepts snapshots whose routes have a destination with weight, so this is defensive.
  if (cluster === null) return answerLocally(x.res, localReply("UH", `route ${route.label} has no destination`));
  x.client.setAttribute("trellis.cluster", cluster.name);
  if (cluster.subset !== null) x.client.setAttribute("trellis.destination_subset", cluster.subset);

  if (route.fault === undefined) return forwardToCluster(deps, x, route, cluster);
  const fault = decideFault(route.fault);
  if (fault.delayMs > 0) return forwardAfterDelay(deps, x, route, cluster, fault);
  if (fault.abortStatus !== null) return answerLocally(x.res, faultAbortReply(fault.abortStatus, route.label));
  return forwardToCluster(deps, x, route, cluster);
}

/** Concrete layer: an endpoint of the cluster, held as in flight until the exchange ends. */
function forwardToCluster(deps: OutboundDeps, x: Exchange, route: CompiledRoute, cluster: CompiledCluster): Promise<ExchangeOutcome> {
  const { balancer } = deps;
  const endpoint = balancer.pick(cluster);
  if (endpoint === null) return answerLocally(x.res, localReply("UH", describeNoEndpoints(cluster)));
  const exchange = forwardToEndpoint({
    req: x.req,
    res: x.res,
    endpoint,
    clientSpan: x.client,
    parent: x.parent,
    telemetry: deps.telemetry,
    agent: deps.agent,
    timeoutMs: route.timeoutMs,
  });
  return exchange.then((end) => {
    balancer.release(endpoint);
    return end;
  });
}

/** The fault's delay, then its abort or the real exchange; DI marks the delay unless a later flag says more. */
async function forwardAfterDelay(deps: OutboundDeps, x: Exchange, route: CompiledRoute, cluster: CompiledCluster, fault: FaultDecision): Promise<ExchangeOutcome> {
  const callerStayed = await holdRequest(x.res, fault.delayMs);
  if (!callerStayed) return { status: null, flag: "DC" };
  const end = fault.abortStatus === null ? await forwardToCluster(deps, x, route, cluster) : await answerLocally(x.res, faultAbortReply(fault.abortStatus, route.label));
  return end.flag === null ? { status: end.status, flag: "DI" } : end;
}

function answerLocally(res: http.ServerResponse, reply: LocalReply): Promise<ExchangeOutcome> {
  sendLocalReply(res, reply);
  return waitForExchange(res, reply.flag);
}
