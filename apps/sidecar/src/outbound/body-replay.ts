// The caller's request body for every attempt of one request: streamed into the current attempt as it arrives
// (with backpressure), while a copy of its chunks is kept so a retry can send it again. Bodies over the buffer
// limit stop being kept, which makes the request no longer retriable (Envoy's per-request buffer limit).
// Works for HTTP/1.1 (the engine's or Node's request → http1/upstream-messages.ts) and HTTP/2 streams (ServerHttp2Stream →
// ClientHttp2Stream).
import type http from "node:http";
import type { Listener } from "../http1/types.ts";

/** Where a body goes: an upstream HTTP/1.1 request (http1/upstream-messages.ts) or an HTTP/2 stream. */
export type BodySink = {
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  destroy(): unknown;
  writableLength: number;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** Envoy's default per_request_buffer_limit_bytes for retries and mirroring. */
export const RETRY_BUFFER_LIMIT = 1024 * 1024;

/** The caller's request: an HTTP/1.x IncomingMessage, or an HTTP/2 server stream (endAfterHeaders: no body). */
export type BodySource = {
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  resume(): unknown;
  pause(): unknown;
  readableLength: number;
  readableEnded: boolean;
  complete?: boolean;
  httpVersionMajor?: number;
  headers?: http.IncomingHttpHeaders;
  endAfterHeaders?: boolean;
}

export type BodyReplay = {
  /** Sends the body so far into `upstream`, then the rest as it comes; false when it can no longer be replayed. */
  sendTo: (upstream: BodySink) => boolean;
  /** Stops feeding the current attempt (it failed); the body waits, paused, for the next one. */
  detach: () => void;
  /** Whether a further attempt could still be sent the whole body. */
  replayable: () => boolean;
  /** Also feeds every chunk to a mirror request (fire-and-forget: no backpressure, dropped when it lags). */
  mirrorTo: (mirror: BodySink) => void;
  /** No further attempt will come: drop the copy and let the rest of the body drain (keeps the connection usable). */
  discard: () => void;
  /** The current attempt is the final one: drop the copy, keep streaming the rest into it (HTTP/2 bidi streams). */
  commit: () => void;
  bytes: () => number;
};

/** `keep` false: no retry can happen, so nothing is kept and the body simply streams (the fast path). */
export function createBodyReplay(req: BodySource, keep: boolean, limit = RETRY_BUFFER_LIMIT): BodyReplay {
  if (hasNoBody(req)) return NO_BODY;
  let chunks: Buffer[] | null = keep ? [] : null;
  let buffered = 0;
  let bytes = 0;
  let ended = false;
  let started = false;
  let sentAny = false;
  let current: BodySink | null = null;
  let mirror: BodySink | null = null;

  const resume = () => req.resume();
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (chunks !== null) {
      buffered += chunk.length;
      if (buffered > limit) chunks = null; // too big to replay: from here on it only streams
      else chunks.push(chunk);
    }
    if (mirror !== null) {
      if (mirror.writableLength > limit) mirror.destroy();
      else mirror.write(chunk);
    }
    if (current === null) return;
    sentAny = true;
    // HTTP/1.x: the whole body is in and this is its last chunk, so end(chunk) sends it with the request head (if
    // that has not gone yet) and the end of the message in one write, one TLS record.
    if (req.complete === true && req.readableLength === 0) {
      current.end(chunk);
      return;
    }
    if (!current.write(chunk)) {
      req.pause();
      current.once("drain", resume);
    }
  };
  const onEnd = () => {
    ended = true;
    current?.end();
    mirror?.end();
  };

  const start = () => {
    started = true;
    req.on("data", onData);
    req.once("end", onEnd);
  };

  return {
    sendTo(upstream) {
      if (!started) {
        current = upstream;
        start();
        if (req.readableEnded) upstream.end(); // already consumed (cannot happen on a fresh request; defensive)
        return true;
      }
      if (chunks === null && sentAny) return false;
      current = upstream;
      for (const chunk of chunks ?? []) upstream.write(chunk);
      sentAny = sentAny || (chunks?.length ?? 0) > 0;
      if (ended) upstream.end();
      else req.resume();
      return true;
    },
    detach() {
      if (current !== null) current.off("drain", resume);
      current = null;
      if (!ended) req.pause();
    },
    replayable: () => chunks !== null || !sentAny,
    mirrorTo(request) {
      mirror = request;
      mirror.on("error", () => {});
      for (const chunk of chunks ?? []) request.write(chunk);
      if (ended) request.end();
    },
    discard() {
      if (current !== null) current.off("drain", resume);
      current = null;
      chunks = null;
      if (started) req.resume();
    },
    commit() {
      chunks = null;
    },
    bytes: () => bytes,
  };
}

/** A GET and most other calls: nothing to stream or keep, so every attempt just ends its request. */
const NO_BODY: BodyReplay = {
  sendTo(upstream) {
    upstream.end();
    return true;
  },
  detach: () => {},
  replayable: () => true,
  mirrorTo: (mirror) => {
    mirror.on("error", () => {});
    mirror.end();
  },
  discard: () => {},
  commit: () => {},
  bytes: () => 0,
};

/**
 * HTTP/1.x framing (RFC 9112 §6.3): a request without Content-Length or Transfer-Encoding has no body; HTTP/2: the
 * request's HEADERS frame ended the stream.
 */
function hasNoBody(req: BodySource): boolean {
  if (req.endAfterHeaders === true) return true;
  const { headers } = req;
  if (req.httpVersionMajor !== 1 || headers === undefined) return false;
  return headers["transfer-encoding"] === undefined && (headers["content-length"] === undefined || headers["content-length"] === "0");
}
