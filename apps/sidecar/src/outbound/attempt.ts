// One upstream attempt of an outbound request: issued on the cluster's pool, fed the (replayable) body, and
// settled as soon as the response head arrives or the attempt fails — nothing is written downstream here, so the
// retry loop can still discard the answer and try again.
import type http from "node:http";
import type { UpstreamRequest, UpstreamResponse } from "../http1/upstream-messages.ts";
import type { CompiledEndpoint } from "./routing-table.ts";
import type { BodyReplay } from "./body-replay.ts";
import type { ClusterPool } from "./pools.ts";
import type { AttemptFailure } from "./retry-policy.ts";

/** Istio's default connect timeout (DestinationRule connectionPool.tcp.connectTimeout). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export type AttemptResult =
  | { kind: "response"; upstream: UpstreamRequest; response: UpstreamResponse }
  | { kind: "failure"; failure: AttemptFailure; detail: string; upstream: UpstreamRequest | null };

export type AttemptRequest = {
  pool: ClusterPool;
  endpoint: CompiledEndpoint;
  method: string;
  path: string;
  headers: http.OutgoingHttpHeaders;
  body: BodyReplay;
  perTryTimeoutMs: number | undefined;
  connectTimeoutMs: number | undefined;
};

/** Sends one attempt; `abandon` (set by the caller) lets the route deadline or a departed caller end it early. */
export function sendAttempt(a: AttemptRequest, register: (abandon: () => void) => void): Promise<AttemptResult> {
  return new Promise((resolve) => {
    const { target } = a.endpoint;
    const upstream = a.pool.request({ host: target.host, port: target.port, method: a.method, path: a.path, headers: a.headers });
    let settled = false;
    let perTry: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;

    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(perTry);
      clearTimeout(connectTimer);
      if (result.kind === "failure") {
        a.body.detach();
        upstream.destroy();
      }
      resolve(result);
    };
    register(() => settle({ kind: "failure", failure: "reset", detail: "abandoned", upstream: null }));

    // Over mTLS a connection counts as made once the handshake (and the peer's SPIFFE ID check) passed: a failed
    // handshake is a connect failure (503 UF), not a reset. A request waiting for a connection slot has no connect
    // timeout until one is being made for it.
    const startConnectTimer = () => {
      const connectTimeoutMs = a.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      connectTimer = setTimeout(() => settle({ kind: "failure", failure: "connect-failure", detail: `no connection within ${connectTimeoutMs} ms`, upstream: null }), connectTimeoutMs);
    };
    if (upstream.connecting && !upstream.connected) startConnectTimer();
    else if (!upstream.connected) upstream.once("connecting", startConnectTimer);
    upstream.once("connect", () => clearTimeout(connectTimer));
    upstream.on("response", (response) => settle({ kind: "response", upstream, response }));
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      settle({ kind: "failure", failure: upstream.connected ? "reset" : "connect-failure", detail: error.code ?? error.message, upstream: null });
    });
    if (a.perTryTimeoutMs !== undefined) {
      const ms = a.perTryTimeoutMs;
      perTry = setTimeout(() => settle({ kind: "failure", failure: "per-try-timeout", detail: `no response within the per-try timeout of ${ms} ms`, upstream: null }), ms);
    }
    if (!a.body.sendTo(upstream)) settle({ kind: "failure", failure: "reset", detail: "the request body is too large to send again", upstream: null });
  });
}
