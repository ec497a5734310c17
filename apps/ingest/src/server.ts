// The OTLP/HTTP receiver: routing and status codes only. Bodies are read by read-body.ts, decoded by
// @trellis/otlp and stored by @trellis/db; a batch is acknowledged only after its spans are committed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { insertSpans, type Database } from "@trellis/db";
import { decodeTraceRequest } from "@trellis/otlp";
import { AppError, isAppError, listen, toPublicMessage } from "@trellis/runtime";
import { exportReply, formatOf, statusReply, type Reply } from "./otlp-response.ts";
import { discardBody, readBody } from "./read-body.ts";
import { toStoreError } from "./store-error.ts";

export type IngestOptions = { db: Pick<Database, "pool">; port: number; host: string; maxBodyBytes: number };
export type IngestServer = { port: number; stop: () => Promise<void> };

const OTLP_PATHS = new Set(["/v1/traces", "/v1/metrics", "/v1/logs"]);

/** How much of a refused body is read and dropped to keep the connection usable; beyond it, close instead. */
const DISCARD_LIMIT_BYTES = 1024 * 1024;

export async function startIngest(options: IngestOptions): Promise<IngestServer> {
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

async function route(req: IncomingMessage, options: IngestOptions): Promise<Reply> {
  const path = pathOf(req);
  if (path === "/healthz") return req.method === "GET" || req.method === "HEAD" ? checkHealth(options.db) : methodNotAllowed(req, "GET, HEAD");
  if (!OTLP_PATHS.has(path)) {
    throw new AppError("NOT_FOUND", `no route for ${req.method} ${path}; OTLP/HTTP is served at POST /v1/traces, /v1/metrics and /v1/logs`);
  }
  if (req.method !== "POST") return methodNotAllowed(req, "POST");
  const format = formatOf(req.headers["content-type"]);
  if (!format) {
    const given = req.headers["content-type"] ? `"${req.headers["content-type"]}"` : "missing";
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `Content-Type is ${given}; OTLP/HTTP accepts application/x-protobuf or application/json`);
  }
  const body = await readBody(req, { maxBytes: options.maxBodyBytes });
  // Metrics and logs are accepted and discarded until issue 5 stores them, so SDKs exporting them do not error.
  if (path !== "/v1/traces") return exportReply(format);
  const decoded = decodeTraceRequest(body, format);
  try {
    await insertSpans(options.db.pool, decoded.spans);
  } catch (error) {
    throw toStoreError(error);
  }
  if (decoded.rejectedSpans === 0) return exportReply(format);
  return exportReply(format, { rejectedSpans: decoded.rejectedSpans, errorMessage: decoded.errors.join("; ") });
}

async function checkHealth(db: IngestOptions["db"]): Promise<Reply> {
  try {
    await db.pool.query("SELECT 1");
    return { status: 200, contentType: "application/json", body: JSON.stringify({ status: "ok" }) };
  } catch (error) {
    const body = { status: "unavailable", error: `Postgres is not answering: ${error instanceof Error ? error.message : String(error)}` };
    return { status: 503, contentType: "application/json", body: JSON.stringify(body) };
  }
}

function methodNotAllowed(req: IncomingMessage, allow: string): Reply {
  return { ...statusReply("json", 405, "BAD_REQUEST", `${req.method} is not allowed on ${pathOf(req)}; use ${allow}`), headers: { Allow: allow } };
}

function toErrorReply(req: IncomingMessage, error: unknown): Reply {
  const appError = isAppError(error) ? error : new AppError("INTERNAL", "unexpected error", { cause: error });
  logFailure(req, appError);
  // OTLP clients read the error in the format they sent; anything else gets JSON.
  const reply = statusReply(formatOf(req.headers["content-type"]) ?? "json", appError.httpStatus, appError.code, toPublicMessage(appError));
  // 503 is what OTLP exporters retry; Retry-After paces them while Postgres is away.
  return appError.code === "UNAVAILABLE" ? { ...reply, headers: { "Retry-After": "5" } } : reply;
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

function logFailure(req: IncomingMessage, error: AppError): void {
  if (error.httpStatus < 500) return;
  const where = `${req.method} ${pathOf(req)}`;
  const cause = error.cause instanceof Error ? error.cause : undefined;
  if (error.code === "UNAVAILABLE") {
    console.error(`ingest: ${where} → 503: ${error.message}: ${cause?.message ?? "unknown cause"}`);
    return;
  }
  console.error(`ingest: ${where} → ${error.httpStatus}: ${error.message}`, cause ?? error);
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? "/", "http://ingest").pathname;
}

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
