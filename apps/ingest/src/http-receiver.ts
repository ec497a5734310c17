// OTLP/HTTP on :4318: routing, authorization and status codes only. Bodies are read by read-body.ts, and the
// export itself (decode → batcher → committed) is the shared export pipeline; a 200 means the data is stored.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { OtlpSignal } from "@trellis/otlp";
import { AppError, listen } from "@trellis/runtime";
import type { TokenCheck } from "./bearer-token.ts";
import type { ExportPipeline } from "./export-pipeline.ts";
import { RPC_CODES, RPC_UNAUTHENTICATED, toFailure } from "./failure.ts";
import type { HealthReport } from "./health.ts";
import { exportReply, formatOf, statusReply, type Reply } from "./otlp-response.ts";
import { discardBody, readBody } from "./read-body.ts";

export type HttpReceiverOptions = {
  host: string;
  port: number;
  maxBodyBytes: number;
  checkToken: TokenCheck;
  pipeline: ExportPipeline;
  checkHealth: () => Promise<HealthReport>;
};

export type Receiver = { port: number; stop: () => Promise<void> };

const SIGNALS: ReadonlyMap<string, OtlpSignal> = new Map([
  ["/v1/traces", "traces"],
  ["/v1/metrics", "metrics"],
  ["/v1/logs", "logs"],
]);

/** How much of a refused body is read and dropped to keep the connection usable; beyond it, close instead. */
const DISCARD_LIMIT_BYTES = 1024 * 1024;

export async function startHttpReceiver(options: HttpReceiverOptions): Promise<Receiver> {
  let stopping: Promise<void> | undefined;
  const server = createServer((req, res) => {
    void route(req, options).then(
      (reply) => write(req, res, reply, stopping !== undefined),
      (error: unknown) => write(req, res, toErrorReply(req, error), stopping !== undefined),
    );
  });
  await listen(server, { port: options.port, host: options.host, what: "OTLP/HTTP ingest", envVar: "TRELLIS_INGEST_PORT" });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () => (stopping ??= closeServer(server)),
  };
}

async function route(req: IncomingMessage, options: HttpReceiverOptions): Promise<Reply> {
  const path = pathOf(req);
  if (path === "/healthz") return req.method === "GET" || req.method === "HEAD" ? healthReply(await options.checkHealth()) : methodNotAllowed(req, "GET, HEAD");
  const signal = SIGNALS.get(path);
  if (!signal) throw new AppError("NOT_FOUND", `no route for ${req.method} ${path}; OTLP/HTTP is served at POST /v1/traces, /v1/metrics and /v1/logs`);
  if (req.method !== "POST") return methodNotAllowed(req, "POST");
  const unauthorized = options.checkToken(req.headers.authorization);
  if (unauthorized) {
    const reply = statusReply(formatOf(req.headers["content-type"]) ?? "json", 401, RPC_UNAUTHENTICATED, unauthorized);
    return { ...reply, headers: { "WWW-Authenticate": "Bearer" } };
  }
  const format = formatOf(req.headers["content-type"]);
  if (!format) {
    const given = req.headers["content-type"] ? `"${req.headers["content-type"]}"` : "missing";
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Type is ${given}; OTLP/HTTP accepts application/x-protobuf or application/json`);
  }
  const body = await readBody(req, { maxBytes: options.maxBodyBytes });
  return exportReply(signal, format, await options.pipeline(signal, body, format));
}

function healthReply(report: HealthReport): Reply {
  return { status: report.status === "ok" ? 200 : 503, contentType: "application/json", body: JSON.stringify(report) };
}

function methodNotAllowed(req: IncomingMessage, allow: string): Reply {
  return { ...statusReply("json", 405, RPC_CODES.BAD_REQUEST, `${req.method} is not allowed on ${pathOf(req)}; use ${allow}`), headers: { Allow: allow } };
}

function toErrorReply(req: IncomingMessage, error: unknown): Reply {
  const failure = toFailure(error, `${req.method} ${pathOf(req)}`);
  // OTLP clients read the error in the format they sent; anything else gets JSON.
  const reply = statusReply(formatOf(req.headers["content-type"]) ?? "json", failure.httpStatus, failure.rpcCode, failure.message);
  if (failure.retryAfterSeconds === undefined) return reply;
  return { ...reply, headers: { "Retry-After": String(failure.retryAfterSeconds) } };
}

async function write(req: IncomingMessage, res: ServerResponse, reply: Reply, stopping: boolean): Promise<void> {
  const keepAlive = (await discardBody(req, DISCARD_LIMIT_BYTES)) && !stopping;
  if (res.headersSent || res.destroyed) return;
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.setHeader("Content-Type", reply.contentType);
  res.setHeader("Content-Length", typeof reply.body === "string" ? Buffer.byteLength(reply.body) : reply.body.byteLength);
  // With part of a refused body still unread the connection cannot carry another request; and once
  // stopping, no connection should linger for its next request.
  if (!keepAlive) res.setHeader("Connection", "close");
  res.end(req.method === "HEAD" ? undefined : reply.body);
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? "/", "http://ingest").pathname;
}

/** Stops accepting connections and resolves once the requests in progress have been answered. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    // Connections still busy after this long belong to a stuck client; they must not hold shutdown forever.
    const timer = setTimeout(() => server.closeAllConnections(), 10_000);
    server.close((error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
