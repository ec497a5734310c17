// One upstream attempt of an outbound HTTP/2 (gRPC) request: a stream opened on the endpoint's multiplexed session,
// fed the (replayable) body, settled as soon as the response head arrives or the attempt fails — nothing goes
// downstream here, so the attempt loop (h2-exchange.ts) can still cancel the stream and try again.
import http2 from "node:http2";
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "../outbound/attempt.ts";
import type { BodyReplay } from "../outbound/body-replay.ts";
import type { AttemptFailure } from "../outbound/retry-policy.ts";

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

export type H2AttemptResult =
  | { kind: "response"; upstream: ClientHttp2Stream; headers: IncomingHttpHeaders; status: number; endStream: boolean }
  | { kind: "failure"; failure: AttemptFailure; detail: string };

export type H2AttemptRequest = {
  session: ClientHttp2Session;
  headers: OutgoingHttpHeaders;
  body: BodyReplay;
  perTryTimeoutMs: number | undefined;
  connectTimeoutMs: number | undefined;
};

/** Sends one attempt; `register` hands the caller an abandon (route deadline, departed caller) for it. */
export function sendH2Attempt(a: H2AttemptRequest, register: (abandon: () => void) => void): Promise<H2AttemptResult> {
  return new Promise((resolve) => {
    const { session } = a;
    let connected = !session.connecting;
    let settled = false;
    let upstream: ClientHttp2Stream | null = null;
    let perTry: NodeJS.Timeout | undefined;
    let connectTimer: NodeJS.Timeout | undefined;
    const onConnect = () => {
      connected = true;
      clearTimeout(connectTimer);
    };

    const settle = (result: H2AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(perTry);
      clearTimeout(connectTimer);
      session.off("connect", onConnect);
      if (result.kind === "failure") {
        a.body.detach();
        if (upstream !== null && !upstream.closed) upstream.close(NGHTTP2_CANCEL);
      }
      resolve(result);
    };
    register(() => settle({ kind: "failure", failure: "reset", detail: "abandoned" }));

    if (!connected) {
      session.once("connect", onConnect);
      const ms = a.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      connectTimer = setTimeout(() => {
        settle({ kind: "failure", failure: "connect-failure", detail: `no connection within ${ms} ms` });
        // The session never came up: the next request to this endpoint needs a new one.
        session.destroy();
      }, ms);
    }
    try {
      upstream = session.request(a.headers);
    } catch (error) {
      // The session closed (GOAWAY) or failed before this stream could be opened: nothing of it reached the peer.
      const detail = (error as NodeJS.ErrnoException).code ?? String(error);
      settle({ kind: "failure", failure: connected ? "refused-stream" : "connect-failure", detail });
      return;
    }
    const stream = upstream;
    stream.on("response", (headers, flags) => {
      settle({ kind: "response", upstream: stream, headers, status: Number(headers[":status"] ?? 502), endStream: (flags & NGHTTP2_FLAG_END_STREAM) !== 0 });
    });
    stream.on("error", (error: NodeJS.ErrnoException) => {
      settle({ kind: "failure", failure: failureOf(stream, connected), detail: error.code ?? error.message });
    });
    // Closed without an error event and without a response: the peer reset the stream (REFUSED_STREAM, CANCEL, …).
    stream.on("close", () => settle({ kind: "failure", failure: failureOf(stream, connected), detail: `stream reset (code ${stream.rstCode ?? "?"})` }));
    if (a.perTryTimeoutMs !== undefined) {
      const ms = a.perTryTimeoutMs;
      perTry = setTimeout(() => settle({ kind: "failure", failure: "per-try-timeout", detail: `no response within the per-try timeout of ${ms} ms` }), ms);
    }
    if (!a.body.sendTo(stream)) settle({ kind: "failure", failure: "reset", detail: "the request body is too large to send again" });
  });
}

/** REFUSED_STREAM: the peer did not process the request at all (GOAWAY, stream limit) — safe to retry anywhere. */
function failureOf(stream: ClientHttp2Stream, connected: boolean): AttemptFailure {
  if (stream.rstCode === NGHTTP2_REFUSED_STREAM) return "refused-stream";
  return connected ? "reset" : "connect-failure";
}
