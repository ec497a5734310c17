// The inbound forwarding primitive (this sidecar → its app on 127.0.0.1): send the request on over the app's
// keep-alive pool, stream both bodies without buffering, and report how the exchange ended (status and response
// flag), including when either side dropped the connection half-way or the deadline passed.
//
// The client is undici's dispatcher with a raw handler, not node:http: per request it costs about half the CPU of
// http.request with an Agent (bench/results/sidecar-profile.md), and this hop carries every request a service gets.
import type http from "node:http";
import { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { flagForUpstreamError, localReply, RESPONSE_FLAGS_HEADER, type ResponseFlag } from "../response-flags.ts";
import { toDownstreamHeaders } from "./headers.ts";
import type { ByteCount } from "./relay.ts";

export type ForwardTarget = { host: string; port: number };

/** How a downstream exchange ended: the status we sent (null if none) and the flag, if the proxy shaped it. */
export type ExchangeOutcome = { status: number | null; flag: ResponseFlag | null };

export type ForwardOptions = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** A keep-alive pool to the one origin the request goes to (an undici Pool). */
  upstream: Dispatcher;
  headers: http.OutgoingHttpHeaders;
  /** Said in the local reply when the target cannot be reached, e.g. "the app on 127.0.0.1:8001". */
  describeTarget: string;
  /**
   * Deadline for the whole exchange, from now until the response is complete (a route's timeout). When it passes
   * the upstream request is abandoned: 504 UT if no response has started, otherwise the caller's connection is
   * cut (the status is already on the wire) and the exchange is flagged UT.
   */
  timeoutMs?: number;
  /** Body bytes each way, counted as they are relayed (the request's record reads them at the end). */
  bytes?: ByteCount & { requestBytes: number };
};

/** Request headers undici frames itself or refuses: it chunks a streamed body, and Node already answered 100-continue. */
const FRAMED_BY_CLIENT = ["transfer-encoding", "expect"] as const;

export function forwardRequest({ req, res, upstream, headers, describeTarget, timeoutMs, bytes = { requestBytes: 0, responseBytes: 0 } }: ForwardOptions): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    let flag: ResponseFlag | null = null;
    let controller: Dispatcher.DispatchController | null = null;
    /** Set once the proxy gives up on the upstream (timeout, caller gone): later upstream events are ignored. */
    let abandoned = false;
    const abandon = () => {
      abandoned = true;
      controller?.abort(new Error("abandoned by the proxy"));
    };

    for (const name of FRAMED_BY_CLIENT) delete headers[name];
    const noBody = hasNoBody(req);
    if (noBody) req.resume();

    upstream.dispatch(
      { path: req.url ?? "/", method: req.method ?? "GET", headers: headers as Record<string, string | string[]>, body: noBody ? null : Readable.from(countedBody(req, bytes), { objectMode: false }), headersTimeout: 0, bodyTimeout: 0 },
      {
        // Called once the request is on a connected socket.
        onRequestStart(c) {
          controller = c;
          if (abandoned) c.abort(new Error("abandoned by the proxy"));
        },
        onResponseStart(c, statusCode, responseHeaders, statusMessage) {
          if (statusCode < 200) return; // 1xx: Node's server sends its own 100-continue
          if (abandoned || res.destroyed) return abandon();
          res.writeHead(statusCode, statusMessage, toDownstreamHeaders(responseHeaders));
          // Node holds the head until the first body write, so head and a one-chunk body leave in one write.
          res.on("drain", () => c.resume());
        },
        onResponseData(c, chunk) {
          bytes.responseBytes += chunk.length;
          if (abandoned || res.destroyed) return;
          if (!res.write(chunk)) c.pause();
        },
        onResponseEnd() {
          if (!abandoned && !res.destroyed) res.end();
        },
        onResponseError(_c, error: Error & { code?: string }) {
          if (abandoned) return; // our own abandonment; whoever abandoned already answered
          if (res.headersSent) {
            // The upstream dropped mid-body: the status is already sent, so the only honest signal is a cut connection.
            flag ??= "UC";
            res.destroy();
            return;
          }
          if (res.destroyed) return; // the caller left first; 'close' reports DC
          const reply = localReply(flagForUpstreamError({ connected: controller !== null }), `${describeTarget}: ${error.code ?? error.message}`);
          flag = reply.flag;
          sendLocalReply(res, reply);
        },
      },
    );

    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (flag !== null || res.writableFinished || res.destroyed) return; // already ending another way
            flag = "UT";
            abandon();
            // Drain what is left of the caller's body, so a kept-alive connection stays usable after the 504.
            req.resume();
            if (res.headersSent) res.destroy();
            else sendLocalReply(res, localReply("UT", `no complete response from ${describeTarget} within the route timeout of ${timeoutMs} ms`));
          }, timeoutMs);

    res.on("error", () => {}); // writes after the caller left; 'close' reports it
    res.on("close", () => {
      clearTimeout(timer);
      if (!res.writableFinished) {
        flag ??= "DC";
        abandon();
      }
      resolve({ status: res.headersSent ? res.statusCode : null, flag });
    });
  });
}

/** The request body as undici reads it (when a connection is ready: a 'data' listener now would lose chunks), counted. */
async function* countedBody(req: http.IncomingMessage, bytes: { requestBytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes.requestBytes += chunk.length;
    yield chunk;
  }
}

/** Answers from the proxy itself, with the response-flag header saying why. */
export function sendLocalReply(res: http.ServerResponse, reply: { status: number; flag: ResponseFlag; body: string }): void {
  res.writeHead(reply.status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(reply.body),
    [RESPONSE_FLAGS_HEADER]: reply.flag,
  });
  res.end(reply.body);
}

/** Waits for the response to be finished or abandoned, for exchanges the proxy answers itself. */
export function waitForExchange(res: http.ServerResponse, flag: ResponseFlag): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    res.on("close", () => resolve({ status: res.headersSent ? res.statusCode : null, flag: res.writableFinished ? flag : "DC" }));
  });
}

/** HTTP/1.x framing (RFC 9112 §6.3): a request without Content-Length or Transfer-Encoding has no body. */
export function hasNoBody(req: http.IncomingMessage): boolean {
  const { headers } = req;
  return req.httpVersionMajor === 1 && headers["transfer-encoding"] === undefined && (headers["content-length"] === undefined || headers["content-length"] === "0");
}
