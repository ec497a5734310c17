// The attempt loop of one outbound HTTP/2 (gRPC) request, with the HTTP/1.1 path's resilience reused: the cluster's
// breakers (maxRequests, pending overflow → 503 UO at once), outlier detection fed by every attempt, retries on a
// fresh pick (another endpoint when there is one) within the retry budget, per-try and route timeouts. A response
// is retried by its HTTP status, or — only when it is gRPC — by the grpc-status of its headers (trailers-only).
import http2 from "node:http2";
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { createBodyReplay, type BodyReplay } from "../outbound/body-replay.ts";
import { DEFAULT_MAX_PENDING, type ClusterState, type Resilience } from "../outbound/cluster-state.ts";
import { describeNoEndpoints, type LoadBalancer } from "../outbound/concrete.ts";
import { markSpan, pickEndpoint, retryParent } from "../outbound/exchange.ts";
import { classifyStatus } from "../outbound/outlier.ts";
import { decideRetry, FLAG_FOR_FAILURE } from "../outbound/retry-decision.ts";
import { computeRetryBackoff, isRetriableFailure, isRetriableGrpcStatus, isRetriableStatus } from "../outbound/retry-policy.ts";
import type { CompiledCluster, CompiledEndpoint, CompiledRoute } from "../outbound/routing-table.ts";
import { RESPONSE_FLAGS_HEADER, localReply, type LocalReply, type ResponseFlag } from "../response-flags.ts";
import type { HttpSpan, Telemetry, TraceContext } from "../telemetry/index.ts";
import type { UpstreamTlsProvider as UpstreamTls } from "../transport/upstream-tls.ts";
import { sendH2Attempt, type H2AttemptResult } from "./h2-attempt.ts";
import { answerH2Locally, statusSent, type H2Outcome } from "./h2-forward.ts";
import { grpcToHttpStatus, isGrpc, toDownstreamH2Headers } from "./h2-headers.ts";
import type { H2SessionPool } from "./h2-session-pool.ts";

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;

export type H2ExchangeDeps = { balancer: LoadBalancer; telemetry: Telemetry; resilience: Resilience; pool: H2SessionPool; upstreamTls: UpstreamTls; upstream: string };

/** One outbound HTTP/2 request and what the attempt loop learns about it (read afterwards for the record). */
export type H2Run = {
  stream: ServerHttp2Stream;
  /** The caller speaks gRPC: local replies are trailers-only with a grpc-status. */
  grpc: boolean;
  method: string;
  path: string;
  route: CompiledRoute;
  cluster: CompiledCluster;
  /** The headers every attempt starts from (each retry gets a copy with its own traceparent). */
  headers: OutgoingHttpHeaders;
  /** The first attempt's CLIENT span; ended here when a retry discards its attempt, else by the handler. */
  firstSpan: HttpSpan;
  /** What the CLIENT spans hang under; null when the caller sent no trace. */
  parent: TraceContext | null;
  attempts: number;
  endpoint: CompiledEndpoint | null;
  /** Envoy response flags in the order they arose, e.g. ["UF", "URX"]. */
  flags: ResponseFlag[];
  mtls: boolean;
};


/** Streams of each cluster waiting for a session to connect (HTTP/2's pending requests). */
const pendingByCluster = new WeakMap<ClusterState, { count: number }>();

const ignore = () => {};

type Flow = { timedOut: boolean; callerGone: boolean; abandon: (() => void) | null; body: BodyReplay | null };

/** Runs the request to completion; resolves with its outcome once the downstream stream has closed. */
export async function forwardH2WithRetries(deps: H2ExchangeDeps, run: H2Run): Promise<H2Outcome> {
  const { stream, route, cluster } = run;
  const { balancer, telemetry } = deps;
  const state = deps.resilience.clusterFor(cluster);
  const limits = cluster.trafficPolicy.connectionPool;
  if (limits?.maxRequests !== undefined && state.active >= limits.maxRequests) {
    state.event("overflow_requests");
    return overflow(run, null, `cluster "${cluster.name}" already has ${state.active} requests in flight, its maximum (connectionPool.http.http2MaxRequests)`);
  }
  state.active += 1;
  const flow: Flow = { timedOut: false, callerGone: false, abandon: null, body: null };
  const deadline =
    route.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          flow.timedOut = true;
          flow.abandon?.();
        }, route.timeoutMs);
  const onCallerGone = () => {
    flow.callerGone = true;
    flow.abandon?.();
  };
  stream.once("close", onCallerGone);
  stream.on("error", ignore); // the caller reset the stream; 'close' reports it
  if (stream.endAfterHeaders) stream.resume(); // nothing to read: let the readable side end
  try {
    const policy = route.retry;
    const body = createBodyReplay(stream, policy.retries > 0);
    flow.body = body;
    const tls = deps.upstreamTls(cluster.name);
    run.mtls = tls !== null;
    const register = (fn: () => void) => (flow.abandon = fn);
    const pending = pendingCounter(state);
    const tried: CompiledEndpoint[] = [];
    let retrying = false;
    let result: H2AttemptResult | null = null;
    let span = run.firstSpan;

    for (let attempt = 0; ; attempt += 1) {
      const endpoint = pickEndpoint(balancer, cluster, state, tried);
      if (retrying) state.retriesActive -= 1;
      retrying = false;
      if (endpoint === null) {
        if (result === null) {
          const ejected = state.outlier.ejectedCount();
          return await finishLocally(run, body, { status: 503, flag: "UH", body: `no healthy upstream: ${describeNoEndpoints(cluster)}${ejected > 0 ? `; ${ejected} endpoint(s) ejected by outlier detection` : ""}\n` });
        }
        // Every endpoint is ejected now: the last attempt's outcome stands. Its request body was detached for the
        // retry, so the rest of it drains rather than flowing anywhere.
        body.discard();
        break;
      }
      if (result?.kind === "response") result.upstream.close(NGHTTP2_CANCEL); // the discarded answer
      const session = deps.pool.session(endpoint.target, tls);
      const waiting = session.connecting;
      if (waiting && pending.count >= (limits?.maxPendingRequests ?? DEFAULT_MAX_PENDING)) {
        balancer.release(endpoint);
        state.event("overflow_pending");
        run.endpoint = null;
        return await overflow(run, body, `cluster "${cluster.name}" has ${pending.count} requests waiting for a connection, its maximum (connectionPool.http.http1MaxPendingRequests)`);
      }
      tried.push(endpoint);
      run.endpoint = endpoint;
      run.attempts = attempt + 1;
      if (attempt > 0) span = telemetry.startHttpSpan({ kind: "client", method: run.method, path: run.path, serverAddress: deps.upstream, upstreamService: deps.upstream, parent: retryParent(run) });
      markSpan(span, route, cluster, endpoint, attempt);
      const headers = attempt === 0 ? run.headers : { ...run.headers };
      if (attempt > 0) telemetry.inject(span, headers);
      const stopWaiting = waiting ? countPending(pending, session) : null;
      result = await sendH2Attempt({ session, headers, body, perTryTimeoutMs: policy.perTryTimeoutMs, connectTimeoutMs: limits?.connectTimeoutMs }, register);
      stopWaiting?.();
      flow.abandon = null;
      // A caller that left says nothing about the endpoint; everything else (the route timeout included) does.
      if (!flow.callerGone) noteOutlier(state, cluster, endpoint, result);
      if (flow.timedOut || flow.callerGone) break;
      if (result.kind === "failure" && result.failure === "per-try-timeout") state.event("per_try_timeout");
      const failure = result.kind === "failure" ? result.failure : null;
      const again = decideRetry({ retriable: isRetriable(run, result), attempt, retries: policy.retries, replayable: body.replayable(), failure, state, maxRetries: limits?.maxRetries, budget: deps.resilience.budget, flags: run.flags });
      if (!again) break;
      // This attempt is discarded: its span ends with what it got, the endpoint's in-flight count with it.
      telemetry.endHttpSpan(span, { status: result.kind === "response" ? result.status : null, flag: result.kind === "failure" ? FLAG_FOR_FAILURE[result.failure] : null });
      if (result.kind === "response") body.detach();
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
        if (result.kind === "response") result.upstream.close(NGHTTP2_CANCEL);
        result = null;
        break;
      }
    }

    let outcome: H2Outcome;
    if (flow.callerGone || stream.closed) {
      if (result?.kind === "response") result.upstream.close(NGHTTP2_CANCEL);
      body.discard();
      outcome = closedOutcome(run, body, null);
    } else if (flow.timedOut || result === null) {
      if (result?.kind === "response") result.upstream.close(NGHTTP2_CANCEL);
      outcome = await finishLocally(run, body, localReply("UT", `no complete response from cluster "${cluster.name}" within the route timeout of ${route.timeoutMs ?? 0} ms (${run.attempts} attempt(s))`));
    } else if (result.kind === "failure") {
      const where = run.endpoint?.description ?? `cluster "${cluster.name}"`;
      outcome = await finishLocally(run, body, localReply(FLAG_FOR_FAILURE[result.failure], `${where}: ${result.detail}${run.attempts > 1 ? ` (after ${run.attempts} attempts)` : ""}`));
    } else {
      outcome = await deliver(run, flow, body, result);
    }
    if (run.endpoint !== null) balancer.release(run.endpoint);
    // The first attempt's span is the handler's to end (with the request's record); a retry's ends here.
    if (span !== run.firstSpan) telemetry.endHttpSpan(span, outcome);
    return outcome;
  } finally {
    clearTimeout(deadline);
    stream.off("close", onCallerGone);
    state.active -= 1;
  }
}

function pendingCounter(state: ClusterState): { count: number } {
  let counter = pendingByCluster.get(state);
  if (counter === undefined) {
    counter = { count: 0 };
    pendingByCluster.set(state, counter);
  }
  return counter;
}

/**
 * Counts a stream waiting for its session to connect as pending (Envoy: a request waiting for a connection) until
 * the session connects or the attempt ends; the returned function ends the wait (idempotent).
 */
function countPending(pending: { count: number }, session: ClientHttp2Session): () => void {
  let waiting = true;
  pending.count += 1;
  const stop = () => {
    if (!waiting) return;
    waiting = false;
    pending.count -= 1;
    session.off("connect", stop);
  };
  session.once("connect", stop);
  return stop;
}

/** Retriable by failure kind, by HTTP status, or — for a gRPC response only — by the grpc-status of its headers. */
function isRetriable(run: H2Run, result: H2AttemptResult): boolean {
  const policy = run.route.retry;
  if (result.kind === "failure") return isRetriableFailure(policy, result.failure);
  if (isRetriableStatus(policy, result.status)) return true;
  return policy.grpcStatusMask !== 0 && isGrpc(result.headers) && isRetriableGrpcStatus(policy, grpcStatusOf(result.headers));
}

function grpcStatusOf(headers: IncomingHttpHeaders): number | null {
  const value = headers["grpc-status"];
  if (typeof value !== "string") return null;
  const status = Number(value);
  return Number.isInteger(status) ? status : null;
}

/**
 * What an attempt says about its endpoint: a gRPC response's status counts as the HTTP status Envoy maps it to
 * (UNAVAILABLE → 503, INTERNAL → 500, …); failures without a response count as gateway errors.
 */
function noteOutlier(state: ClusterState, cluster: CompiledCluster, endpoint: CompiledEndpoint, result: H2AttemptResult): void {
  const config = cluster.trafficPolicy.outlierDetection;
  if (config === undefined) return;
  let status = 502;
  if (result.kind === "response") {
    const grpcStatus = result.status === 200 && isGrpc(result.headers) ? grpcStatusOf(result.headers) : null;
    status = grpcStatus === null ? result.status : grpcToHttpStatus(grpcStatus);
  }
  if (state.outlier.record(endpoint.workloadId, classifyStatus(status), config, cluster.endpoints.length, Date.now())) state.event("outlier_ejected");
}


function backoff(ms: number, register: (abandon: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    register(() => (clearTimeout(timer), resolve()));
  });
}

/** The proxy's own answer (trailers-only for gRPC callers); the flags list every flag so far, the reply's own first. */
async function finishLocally(run: H2Run, body: BodyReplay | null, reply: LocalReply): Promise<H2Outcome> {
  body?.discard();
  if (run.stream.closed) return { status: null, flag: "DC", flags: ["DC"], grpcStatus: null, requestBytes: body?.bytes() ?? 0, responseBytes: 0 };
  if (!run.flags.includes(reply.flag)) run.flags.unshift(reply.flag);
  const outcome = await answerH2Locally(run.stream, reply, run.grpc, run.flags.join(","));
  outcome.flag = outcome.status === null ? "DC" : reply.flag;
  outcome.flags = outcome.status === null ? ["DC"] : run.flags;
  if (body !== null) outcome.requestBytes = Math.max(outcome.requestBytes, body.bytes());
  return outcome;
}

/** A circuit breaker's answer: 503 UO at once (gRPC UNAVAILABLE), never a queue. */
function overflow(run: H2Run, body: BodyReplay | null, reason: string): Promise<H2Outcome> {
  return finishLocally(run, body, { status: 503, flag: "UO", body: `upstream overflow: ${reason}\n` });
}

function closedOutcome(run: H2Run, body: BodyReplay, grpcStatus: number | null, responseBytes = 0): H2Outcome {
  const status = statusSent(run.stream);
  if (run.flags.length === 0 && (status === null || run.stream.rstCode !== NGHTTP2_NO_ERROR)) run.flags.push("DC");
  return { status, flag: run.flags[0] ?? null, flags: run.flags, grpcStatus, requestBytes: body.bytes(), responseBytes };
}

/**
 * Streams the chosen response downstream: headers, body with flow control, trailers (gRPC's grpc-status); a
 * trailers-only response stays trailers-only. A drop mid-body cancels the caller's stream (UC), the deadline too (UT).
 */
function deliver(run: H2Run, flow: Flow, body: BodyReplay, result: Extract<H2AttemptResult, { kind: "response" }>): Promise<H2Outcome> {
  const { stream: downstream } = run;
  const { upstream } = result;
  body.commit(); // no further attempt: the rest of a streaming request body flows into this one only
  let grpcStatus: number | null = grpcStatusOf(result.headers);
  let responseBytes = 0;
  let trailers: IncomingHttpHeaders | null = null;
  const out = toDownstreamH2Headers(result.headers);
  if (run.flags.length > 0) out[RESPONSE_FLAGS_HEADER] = run.flags.join(",");
  const cut = (flag: "UC" | "UT") => {
    if (downstream.closed) return;
    if (!run.flags.includes(flag)) run.flags.unshift(flag);
    downstream.close(NGHTTP2_CANCEL);
    if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
  };
  return new Promise((resolve) => {
    downstream.once("close", () => {
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
      resolve(closedOutcome(run, body, grpcStatus, responseBytes));
    });
    if (downstream.closed) return;
    flow.abandon = () => cut(flow.timedOut ? "UT" : "UC");
    if (result.endStream) {
      downstream.respond(out, { endStream: true });
      return;
    }
    upstream.on("data", (chunk: Buffer) => (responseBytes += chunk.length));
    upstream.on("trailers", (received: IncomingHttpHeaders) => {
      trailers = received;
      grpcStatus = grpcStatusOf(received) ?? grpcStatus;
    });
    upstream.on("error", () => cut("UC"));
    upstream.on("close", () => {
      if (!upstream.readableEnded) cut("UC");
    });
    downstream.on("wantTrailers", () => downstream.sendTrailers(trailers === null ? {} : toDownstreamH2Headers(trailers)));
    // Whether trailers follow is only known at the upstream's end, so the last frame waits for them.
    downstream.respond(out, { waitForTrailers: true });
    upstream.pipe(downstream);
  });
}
