// The one HTTP forwarding primitive both directions use: send the request on to host:port over a keep-alive
// pool, stream both bodies without buffering, and report how the exchange ended (status and response flag),
// including when either side dropped the connection half-way or the deadline passed.
import type http from "node:http";
import type { Http1Request, Http1Response } from "../http1/types.ts";
import type { UpstreamResponse } from "../http1/upstream-messages.ts";
import type { ClusterPool } from "../outbound/pools.ts";
import { flagForUpstreamError, localReply, RESPONSE_FLAGS_HEADER, type ResponseFlag } from "../response-flags.ts";
import { createBodyReplay } from "../outbound/body-replay.ts";
import { toDownstreamHeaders } from "./headers.ts";
import { relayBody, type ByteCount } from "./relay.ts";

export type ForwardTarget = { host: string; port: number };

/** How a downstream exchange ended: the status we sent (null if none) and the flag, if the proxy shaped it. */
export type ExchangeOutcome = { status: number | null; flag: ResponseFlag | null };

export type ForwardOptions = {
  req: Http1Request;
  res: Http1Response;
  target: ForwardTarget;
  headers: http.OutgoingHttpHeaders;
  pool: ClusterPool;
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

export function forwardRequest({ req, res, target, headers, pool, describeTarget, timeoutMs, bytes = { requestBytes: 0, responseBytes: 0 } }: ForwardOptions): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    let flag: ResponseFlag | null = null;
    let timedOut = false;

    const upstream = pool.request({ host: target.host, port: target.port, method: req.method ?? "GET", path: req.url ?? "/", headers });

    upstream.on("response", (upstreamRes: UpstreamResponse) => {
      if (res.destroyed || timedOut) {
        upstreamRes.resume();
        return;
      }
      res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, toDownstreamHeaders(upstreamRes.headers));
      relayBody(upstreamRes, res, bytes);
      upstreamRes.on("error", () => {
        if (timedOut) return;
        // The upstream dropped mid-body: the status is already sent, so the only honest signal is a cut connection.
        flag ??= "UC";
        res.destroy();
      });
    });

    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (timedOut) return; // our own abandonment; the timeout already answered
      if (res.headersSent) {
        flag ??= "UC";
        res.destroy();
        return;
      }
      if (res.destroyed) return; // the caller left first; 'close' reports DC
      const reply = localReply(flagForUpstreamError({ connected: upstream.connected }), `${describeTarget}: ${error.code ?? error.message}`);
      flag = reply.flag;
      sendLocalReply(res, reply);
    });

    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (flag !== null || res.writableFinished || res.destroyed) return; // already ending another way
            timedOut = true;
            flag = "UT";
            upstream.destroy();
            // Drain what is left of the caller's body, so a kept-alive connection stays usable after the 504.
            body.discard();
            if (res.headersSent) res.destroy();
            else sendLocalReply(res, localReply("UT", `no complete response from ${describeTarget} within the route timeout of ${timeoutMs} ms`));
          }, timeoutMs);

    // One attempt, so nothing is kept for a replay: the body streams with backpressure (a GET's head goes out with
    // end() in one write).
    const body = createBodyReplay(req, false);
    body.sendTo(upstream);

    res.on("error", () => {}); // writes after the caller left; 'close' reports it
    res.once("close", () => {
      clearTimeout(timer);
      if (!res.writableFinished) {
        flag ??= "DC";
        upstream.destroy();
      }
      bytes.requestBytes = body.bytes();
      resolve({ status: res.headersSent ? res.statusCode : null, flag });
    });
  });
}

/** Answers from the proxy itself, with the response-flag header saying why. */
export function sendLocalReply(res: Http1Response, reply: { status: number; flag: ResponseFlag; body: string }): void {
  res.writeHead(reply.status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(reply.body),
    [RESPONSE_FLAGS_HEADER]: reply.flag,
  });
  res.end(reply.body);
}

/** Waits for the response to be finished or abandoned, for exchanges the proxy answers itself. */
export function waitForExchange(res: Http1Response, flag: ResponseFlag): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    res.on("close", () => resolve({ status: res.headersSent ? res.statusCode : null, flag: res.writableFinished ? flag : "DC" }));
  });
}
