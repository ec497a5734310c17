// The HTTP/2 forwarding primitive of the inbound side (outbound goes through h2-exchange.ts's attempt loop, which
// shares the local replies below): one request stream sent on a multiplexed session, bodies
// piped with HTTP/2 flow control on both sides, response headers, body and trailers (gRPC's grpc-status) passed
// through, trailers-only responses kept trailers-only, and how the exchange ended reported like forward.ts does.
import http2 from "node:http2";
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { localReply, type LocalReply, type ResponseFlag } from "../response-flags.ts";
import { localReplyH2Headers, toDownstreamH2Headers } from "./h2-headers.ts";

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_REFUSED_STREAM } = http2.constants;

export type H2Outcome = {
  status: number | null;
  flag: ResponseFlag | null;
  /** Every flag in the order they arose, when more than one did (a retried request: e.g. UF,URX). */
  flags?: ResponseFlag[];
  /** grpc-status from the response's trailers (or a trailers-only response); null when none came. */
  grpcStatus: number | null;
  requestBytes: number;
  responseBytes: number;
};

export type H2ForwardOptions = {
  downstream: ServerHttp2Stream;
  session: http2.ClientHttp2Session;
  /** The headers to send on (pseudo-headers included). */
  headers: OutgoingHttpHeaders;
  /** Said in local replies, e.g. "endpoint catalog-v1-0 at 127.0.0.1:15001". */
  describeTarget: string;
  grpc: boolean;
  /** Deadline for the whole exchange (the route's timeout): 504 UT before the response starts, a reset after. */
  timeoutMs?: number;
};

export function forwardH2({ downstream, session, headers, describeTarget, grpc, timeoutMs }: H2ForwardOptions): Promise<H2Outcome> {
  return new Promise((resolve) => {
    const outcome: H2Outcome = { status: null, flag: null, grpcStatus: null, requestBytes: 0, responseBytes: 0 };
    let connected = !session.connecting;
    if (!connected) session.once("connect", () => (connected = true));
    let upstreamDone = false;
    let trailers: IncomingHttpHeaders | null = null;

    const upstream = session.request(headers, { endStream: downstream.endAfterHeaders });
    const fail = (reply: LocalReply) => {
      outcome.flag = reply.flag;
      if (downstream.destroyed || downstream.closed) return;
      if (downstream.headersSent) {
        downstream.close(NGHTTP2_CANCEL);
        return;
      }
      sendLocalH2Reply(downstream, reply, grpc);
    };

    upstream.on("response", (responseHeaders, flags) => {
      if (downstream.destroyed || downstream.closed || outcome.flag === "UT") {
        upstream.resume();
        return;
      }
      readGrpcStatus(responseHeaders, outcome);
      const out = toDownstreamH2Headers(responseHeaders);
      // A trailers-only response (gRPC errors) carries END_STREAM on its only HEADERS frame: keep it so.
      if ((flags & NGHTTP2_FLAG_END_STREAM) !== 0) {
        downstream.respond(out, { endStream: true });
        return;
      }
      // Whether trailers follow is only known at the upstream's end, so the last frame waits for them: the upstream's
      // trailers if any came, else an empty trailer block (a valid end of stream).
      downstream.respond(out, { waitForTrailers: true });
      upstream.pipe(downstream);
    });
    upstream.on("data", (chunk: Buffer) => (outcome.responseBytes += chunk.length));
    upstream.on("trailers", (received) => {
      trailers = received;
      readGrpcStatus(received, outcome);
    });
    downstream.on("wantTrailers", () => downstream.sendTrailers(trailers === null ? {} : toDownstreamH2Headers(trailers)));

    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (upstreamDone || outcome.flag === "UT") return;
      upstreamDone = true;
      // A refused stream never reached the app (GOAWAY / stream limit): like a connect failure, safe to report UF.
      const refused = upstream.rstCode === NGHTTP2_REFUSED_STREAM;
      fail(localReply(connected && !refused ? "UC" : "UF", `${describeTarget}: ${error.code ?? error.message}`));
    });
    upstream.on("close", () => {
      if (upstreamDone) return;
      upstreamDone = true;
      // Closed without an error event but reset before its end: the upstream gave up on the stream.
      if (!upstream.readableEnded && outcome.flag === null && !downstream.closed) fail(localReply("UC", `${describeTarget}: stream reset (code ${upstream.rstCode ?? "?"})`));
    });

    downstream.on("data", (chunk: Buffer) => (outcome.requestBytes += chunk.length));
    if (downstream.endAfterHeaders) downstream.resume();
    else downstream.pipe(upstream);

    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (downstream.closed || outcome.flag !== null) return;
            upstream.close(NGHTTP2_CANCEL);
            fail(localReply("UT", `no complete response from ${describeTarget} within the route timeout of ${timeoutMs} ms`));
          }, timeoutMs);

    downstream.on("error", () => {}); // the caller reset the stream; 'close' reports it
    downstream.on("close", () => {
      clearTimeout(timer);
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
      if (outcome.flag === null && downstream.rstCode !== 0) outcome.flag = "DC";
      outcome.status = statusSent(downstream);
      resolve(outcome);
    });
  });
}

/** A reply from the proxy itself: trailers-only for gRPC callers, a plain status and body otherwise. */
export function sendLocalH2Reply(stream: ServerHttp2Stream, reply: LocalReply, grpc: boolean, flags: string = reply.flag): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  if (grpc) {
    stream.respond(localReplyH2Headers(reply, true, flags), { endStream: true });
    return;
  }
  stream.respond(localReplyH2Headers(reply, false, flags));
  stream.end(reply.body);
}

/** Waits for a stream the proxy answered itself to close; its outcome carries the reply's flag. */
export function answerH2Locally(stream: ServerHttp2Stream, reply: LocalReply, grpc: boolean, flags: string = reply.flag): Promise<H2Outcome> {
  return new Promise((resolve) => {
    let requestBytes = 0;
    stream.on("data", (chunk: Buffer) => (requestBytes += chunk.length));
    stream.on("error", () => {});
    stream.on("close", () => {
      const status = statusSent(stream);
      resolve({ status, flag: status === null ? "DC" : reply.flag, grpcStatus: grpc ? Number(localReplyH2Headers(reply, true)["grpc-status"]) : null, requestBytes, responseBytes: grpc ? 0 : Buffer.byteLength(reply.body) });
    });
    sendLocalH2Reply(stream, reply, grpc, flags);
    // The caller's body is not needed; reading it lets the stream close cleanly.
    stream.resume();
  });
}

export function statusSent(stream: ServerHttp2Stream): number | null {
  if (!stream.headersSent) return null;
  const status = stream.sentHeaders[":status"];
  return typeof status === "number" ? status : Number(status ?? 0) || null;
}

function readGrpcStatus(headers: IncomingHttpHeaders, outcome: H2Outcome): void {
  const value = headers["grpc-status"];
  if (value !== undefined) outcome.grpcStatus = Number(value);
}
