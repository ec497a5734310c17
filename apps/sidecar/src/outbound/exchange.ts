// The attempt loop of one outbound request (Envoy's router filter): each attempt's response head is looked at
// before anything goes downstream; a retriable outcome with attempts and retry budget left is drained and tried
// again on a fresh pick (another endpoint when there is one), after a jittered backoff, all within the route
// timeout. Circuit breakers answer overflow at once (503 UO); outlier detection hears every attempt's result.
import type { UpstreamRequest, UpstreamResponse } from "../http1/upstream-messages.ts";
import type { Http1Request, Http1Response } from "../http1/types.ts";
import { RESPONSE_FLAGS_HEADER, localReply, type LocalReply, type ResponseFlag } from "../response-flags.ts";
import { toDownstreamHeaders } from "../proxy/headers.ts";
import { relayBody } from "../proxy/relay.ts";
import type { HttpSpan, Telemetry, TraceContext } from "../telemetry/index.ts";
import { sendAttempt, type AttemptResult } from "./attempt.ts";
import { createBodyReplay, type BodyReplay } from "./body-replay.ts";
import { DEFAULT_MAX_PENDING, type ClusterState, type Resilience } from "./cluster-state.ts";
import { describeNoEndpoints, type LoadBalancer } from "./concrete.ts";
import { buildUpstreamHeaders } from "./endpoint.ts";
import { startMirror } from "./mirror.ts";
import { classifyStatus, type EndpointResult } from "./outlier.ts";
import { decideRetry, FLAG_FOR_FAILURE } from "./retry-decision.ts";
import { computeRetryBackoff, isRetriableFailure, isRetriableStatus } from "./retry-policy.ts";
import type { CompiledCluster, CompiledEndpoint, CompiledRoute } from "./routing-table.ts";

export type ExchangeDeps = { balancer: LoadBalancer; telemetry: Telemetry; resilience: Resilience; peerMetadata: string; upstream: string };

/** One outbound request and what the attempt loop learns about it (read afterwards for the request record). */
export type OutboundRun = {
  req: Http1Request;
  res: Http1Response;
  method: string;
  path: string;
  route: CompiledRoute;
  cluster: CompiledCluster;
  /** The request's first CLIENT span (the first attempt's); a retry ends it, else the handler does. */
  firstSpan: HttpSpan;
  /** What the CLIENT spans hang under; null when the caller sent no trace. */
  parent: TraceContext | null;
  attempts: number;
  endpoint: CompiledEndpoint | null;
  /** Envoy response flags in the order they arose, e.g. ["UF", "URX"]. */
  flags: ResponseFlag[];
  requestId: string | null;
  requestBytes: number;
  responseBytes: number;
  mtls: boolean;
};


/** What ends a request early: the route deadline or the caller leaving; each calls the registered abandon. */
type Flow = {
  timedOut: boolean;
  callerGone: boolean;
  abandon: (() => void) | null;
  deadline: NodeJS.Timeout | undefined;
  /** Settles when the downstream response is finished or abandoned. */
  downstreamClosed: Promise<void>;
  body: BodyReplay | null;
};

/** Runs the request to completion; resolves with the downstream status (null if none was sent). */
export async function forwardWithRetries(deps: ExchangeDeps, run: OutboundRun): Promise<number | null> {
  const { req, res, route, cluster } = run;
  const { balancer, telemetry } = deps;
  const state = deps.resilience.clusterFor(cluster);
  const limits = cluster.trafficPolicy.connectionPool;
  const flow: Flow = { timedOut: false, callerGone: false, abandon: null, deadline: undefined, downstreamClosed: new Promise((resolve) => res.once("close", resolve)), body: null };
  if (limits?.maxRequests !== undefined && state.active >= limits.maxRequests) {
    state.event("overflow_requests");
    return overflow(run, flow, `cluster "${cluster.name}" already has ${state.active} requests in flight, its maximum (connectionPool.http.http2MaxRequests)`);
  }
  state.active += 1;
  try {
    const policy = route.retry;
    const headers = buildUpstreamHeaders(req, deps.peerMetadata);
    run.requestId = typeof headers["x-request-id"] === "string" ? headers["x-request-id"] : null;
    const body = createBodyReplay(req, policy.retries > 0);
    flow.body = body;
    if (route.mirror !== undefined) startMirror(route.mirror, req, headers, body, deps);
    const stop = () => flow.abandon?.();
    if (route.timeoutMs !== undefined) {
      flow.deadline = setTimeout(() => {
        flow.timedOut = true;
        stop();
      }, route.timeoutMs);
    }
    void flow.downstreamClosed.then(() => {
      if (res.writableFinished) return;
      flow.callerGone = true;
      stop();
    });
    const register = (fn: () => void) => (flow.abandon = fn);

    const tried: CompiledEndpoint[] = [];
    let retrying = false;
    let result: AttemptResult | null = null;
    let span = run.firstSpan;
    const endFinal = (status: number | null) => {
      if (run.endpoint !== null) balancer.release(run.endpoint);
      // The first attempt's span is the handler's to end (with the request's record); a retry's ends here.
      if (span !== run.firstSpan) telemetry.endHttpSpan(span, { status, flag: run.flags[0] ?? null });
      return status;
    };
    for (let attempt = 0; ; attempt += 1) {
      const endpoint = pickEndpoint(balancer, cluster, state, tried);
      if (retrying) state.retriesActive -= 1; // the retry's slot ends once its attempt is made (or cannot be)
      retrying = false;
      if (endpoint === null) {
        if (result === null) {
          const ejected = state.outlier.ejectedCount();
          return finishLocally(run, flow, { status: 503, flag: "UH", body: `no healthy upstream: ${describeNoEndpoints(cluster)}${ejected > 0 ? `; ${ejected} endpoint(s) ejected by outlier detection` : ""}\n` });
        }
        run.endpoint = null;
        break; // every endpoint is ejected now: the last attempt's outcome stands
      }
      // The discarded answer drains now (it stayed paused through the backoff in case no endpoint was left to try).
      if (result?.kind === "response") result.response.resume();
      const admission = state.pool.admission(endpoint.target);
      if (admission === "pending") {
        state.event("overflow_connections");
        if (state.pool.pending() >= (limits?.maxPendingRequests ?? DEFAULT_MAX_PENDING)) {
          balancer.release(endpoint);
          state.event("overflow_pending");
          run.endpoint = null;
          const reason = `cluster "${cluster.name}" has ${state.pool.pending()} requests waiting for one of its ${state.pool.connections()} connections, its maximum (connectionPool.http.http1MaxPendingRequests)`;
          return endFinal(await overflow(run, flow, reason));
        }
      }
      tried.push(endpoint);
      run.endpoint = endpoint;
      run.attempts = attempt + 1;
      run.mtls = state.pool.secure();
      if (attempt > 0) span = telemetry.startHttpSpan({ kind: "client", method: run.method, path: run.path, serverAddress: deps.upstream, upstreamService: deps.upstream, parent: retryParent(run) });
      markSpan(span, route, cluster, endpoint, attempt);
      const attemptHeaders = attempt === 0 ? headers : { ...headers };
      telemetry.inject(span, attemptHeaders);
      result = await sendAttempt(
        { pool: state.pool, endpoint, method: run.method, path: req.url ?? "/", headers: attemptHeaders, body, perTryTimeoutMs: policy.perTryTimeoutMs, connectTimeoutMs: limits?.connectTimeoutMs },
        register,
      );
      flow.abandon = null;
      noteOutlier(state, cluster, endpoint, result);
      if (flow.timedOut || flow.callerGone) break;
      if (result.kind === "failure" && result.failure === "per-try-timeout") state.event("per_try_timeout");
      const status = result.kind === "response" ? (result.response.statusCode ?? 502) : null;
      const retriable = result.kind === "response" ? isRetriableStatus(policy, status ?? 502) : isRetriableFailure(policy, result.failure);
      const failure = result.kind === "failure" ? result.failure : null;
      const again = decideRetry({ retriable, attempt, retries: policy.retries, replayable: body.replayable(), failure, state, maxRetries: limits?.maxRetries, budget: deps.resilience.budget, flags: run.flags });
      if (!again) break;
      // This attempt is discarded: its span ends with what it got, and the endpoint's in-flight count with it.
      telemetry.endHttpSpan(span, { status, flag: result.kind === "failure" ? FLAG_FOR_FAILURE[result.failure] : null });
      balancer.release(endpoint);
      run.endpoint = null;
      state.event("retry");
      state.retriesActive += 1;
      retrying = true;
      await backoff(computeRetryBackoff(attempt + 1), register);
      flow.abandon = null;
      if (flow.timedOut || flow.callerGone) {
        state.retriesActive -= 1;
        retrying = false;
        break;
      }
    }

    // The final answer: the last attempt's response, streamed; or a local reply saying why there is none.
    if (flow.callerGone) {
      if (result?.kind === "response") result.response.destroy();
      return endFinal(await closed(run, flow));
    }
    if (flow.timedOut) {
      if (result?.kind === "response") result.response.resume();
      const reply = localReply("UT", `no complete response from cluster "${cluster.name}" within the route timeout of ${route.timeoutMs ?? 0} ms (${run.attempts} attempt(s))`);
      return endFinal(await finishLocally(run, flow, reply));
    }
    if (result === null) return endFinal(await closed(run, flow)); // unreachable: the loop attempts at least once or returns
    if (result.kind === "failure") {
      const flag = FLAG_FOR_FAILURE[result.failure];
      const where = run.endpoint?.description ?? `cluster "${cluster.name}"`;
      const reply = localReply(flag, `${where}: ${result.detail}${run.attempts > 1 ? ` (after ${run.attempts} attempts)` : ""}`);
      return endFinal(await finishLocally(run, flow, reply));
    }
    return endFinal(await deliver(run, flow, result.upstream, result.response));
  } finally {
    state.active -= 1;
  }
}

/**
 * Retries' spans are siblings of the first attempt's under the caller's span; when the caller sent no trace, the
 * first attempt's span is the root, and retries hang under it so that one request stays one trace.
 */
export function retryParent(run: { parent: TraceContext | null; firstSpan: HttpSpan }): TraceContext {
  return run.parent ?? run.firstSpan;
}

/** Prefers an endpoint this request has not tried (Envoy's previous_hosts predicate), never an ejected one. */
export function pickEndpoint(balancer: LoadBalancer, cluster: CompiledCluster, state: ClusterState, tried: readonly CompiledEndpoint[]): CompiledEndpoint | null {
  const anyEjected = state.outlier.ejectedCount() > 0;
  if (!anyEjected && tried.length === 0) return balancer.pick(cluster);
  const now = Date.now();
  const healthy = (e: CompiledEndpoint) => !anyEjected || !state.outlier.isEjected(e.workloadId, now);
  return balancer.pick(cluster, (e) => healthy(e) && !tried.includes(e)) ?? (tried.length > 0 ? balancer.pick(cluster, healthy) : null);
}

function noteOutlier(state: ClusterState, cluster: CompiledCluster, endpoint: CompiledEndpoint, result: AttemptResult): void {
  const config = cluster.trafficPolicy.outlierDetection;
  if (config === undefined) return;
  // Local-origin failures (no connection, reset, timeout) count as gateway errors, as Envoy does by default.
  const outcome: EndpointResult = result.kind === "response" ? classifyStatus(result.response.statusCode ?? 502) : "gateway-error";
  if (state.outlier.record(endpoint.workloadId, outcome, config, cluster.endpoints.length, Date.now())) state.event("outlier_ejected");
}


function addFlag(run: OutboundRun, flag: ResponseFlag): void {
  if (!run.flags.includes(flag)) run.flags.unshift(flag);
}

/** What an attempt's span says about where it went (a retry's span repeats the route and cluster of the first). */
export function markSpan(span: HttpSpan, route: CompiledRoute, cluster: CompiledCluster, endpoint: CompiledEndpoint, attempt: number): void {
  span.routeName = route.name;
  span.cluster = cluster.name;
  span.destinationSubset = cluster.subset ?? undefined;
  span.setEndpoint(endpoint.target.host, endpoint.target.port, endpoint.workloadId);
  if (attempt > 0) span.resendCount = attempt;
}

/** Waits the backoff, or less when the deadline passes or the caller leaves (both call the registered abandon). */
function backoff(ms: number, register: (abandon: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    register(() => (clearTimeout(timer), resolve()));
  });
}

/** Streams the chosen response downstream; a drop mid-body cuts the caller's connection (UC), the deadline too (UT). */
function deliver(run: OutboundRun, flow: Flow, upstream: UpstreamRequest, response: UpstreamResponse): Promise<number | null> {
  const { res } = run;
  flow.body?.discard(); // no further attempt: a body still arriving streams into this one only
  const headers = toDownstreamHeaders(response.headers);
  if (run.flags.length > 0) headers[RESPONSE_FLAGS_HEADER] = run.flags.join(",");
  res.writeHead(response.statusCode ?? 502, response.statusMessage, headers);
  relayBody(response, res, run);
  const cut = () => {
    if (res.writableFinished) return;
    addFlag(run, flow.timedOut ? "UT" : "UC");
    res.destroy();
    upstream.destroy();
  };
  response.on("error", cut);
  upstream.on("error", cut);
  // From here the route deadline can only cut the stream: the status is already on the wire.
  flow.abandon = () => {
    if (flow.timedOut) cut();
    else upstream.destroy();
  };
  return closed(run, flow);
}

/** Answers from the proxy itself; the flags header lists every flag so far, the reply's own first. */
function finishLocally(run: OutboundRun, flow: Flow, reply: LocalReply | { status: number; flag: ResponseFlag; body: string }): Promise<number | null> {
  const { res } = run;
  flow.body?.discard();
  addFlag(run, reply.flag);
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(reply.body), [RESPONSE_FLAGS_HEADER]: run.flags.join(",") });
    res.end(reply.body);
  }
  return closed(run, flow);
}

/** A circuit breaker's answer: 503 UO at once, never a queue. */
function overflow(run: OutboundRun, flow: Flow, reason: string): Promise<number | null> {
  return finishLocally(run, flow, { status: 503, flag: "UO", body: `upstream overflow: ${reason}\n` });
}

/** Resolves once the downstream response is done or abandoned; DC when the caller left before the end. */
async function closed(run: OutboundRun, flow: Flow): Promise<number | null> {
  await flow.downstreamClosed;
  clearTimeout(flow.deadline);
  flow.body?.discard();
  run.requestBytes = flow.body?.bytes() ?? 0;
  if (!run.res.writableFinished && run.flags.length === 0) run.flags.push("DC");
  return run.res.headersSent ? run.res.statusCode : null;
}
