// The one HTTP forwarding primitive both directions use: send the request on to host:port over a keep-alive
// pool, stream both bodies without buffering, and report how the exchange ended (status and response flag),
// including when either side dropped the connection half-way.
import http from "node:http";
import { flagForUpstreamError, localReply, RESPONSE_FLAGS_HEADER, type ResponseFlag } from "../response-flags.ts";
import { toDownstreamHeaders } from "./headers.ts";

export type ForwardTarget = { host: string; port: number };

/** How a downstream exchange ended: the status we sent (null if none) and the flag, if the proxy shaped it. */
export type ExchangeOutcome = { status: number | null; flag: ResponseFlag | null };

export type ForwardOptions = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  target: ForwardTarget;
  headers: http.OutgoingHttpHeaders;
  agent: http.Agent;
  /** Said in the local reply when the target cannot be reached, e.g. "the app on 127.0.0.1:8001". */
  describeTarget: string;
};

export function forwardRequest({ req, res, target, headers, agent, describeTarget }: ForwardOptions): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    let flag: ResponseFlag | null = null;
    let connected = false;

    const upstream = http.request({ host: target.host, port: target.port, method: req.method, path: req.url, headers, agent });
    upstream.on("socket", (socket) => {
      if (!socket.connecting) connected = true; // a pooled keep-alive connection
      else socket.once("connect", () => (connected = true));
    });

    upstream.on("response", (upstreamRes) => {
      if (res.destroyed) {
        upstreamRes.resume();
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, toDownstreamHeaders(upstreamRes.headers));
      upstreamRes.pipe(res);
      upstreamRes.on("error", () => {
        // The upstream dropped mid-body: the status is already sent, so the only honest signal is a cut connection.
        flag ??= "UC";
        res.destroy();
      });
    });

    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        flag ??= "UC";
        res.destroy();
        return;
      }
      if (res.destroyed) return; // the caller left first; 'close' reports DC
      const reply = localReply(flagForUpstreamError({ connected }), `${describeTarget}: ${error.code ?? error.message}`);
      flag = reply.flag;
      sendLocalReply(res, reply);
    });

    req.pipe(upstream);

    res.on("error", () => {}); // writes after the caller left; 'close' reports it
    res.on("close", () => {
      if (!res.writableFinished) {
        flag ??= "DC";
        upstream.destroy();
      }
      resolve({ status: res.headersSent ? res.statusCode : null, flag });
    });
  });
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
