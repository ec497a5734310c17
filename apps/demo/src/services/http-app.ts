// The plumbing every TypeScript demo service shares — serve JSON over plain HTTP/1.1 keep-alive, call upstreams
// with the incoming trace headers copied on — so each service file holds only its bit of shop logic.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { AppError, isAppError, listen, type Stop } from "@trellis/runtime";
import { pickTraceHeaders } from "./trace-headers.ts";

export type ServiceIdentity = { service: string; version: string };
export type JsonObject = Record<string, unknown>;
export type ServiceRequest = { method: string; path: string; body: unknown; trace: Record<string, string> };
export type ServiceReply = { status?: number; body: JsonObject };
export type Handler = (request: ServiceRequest) => Promise<ServiceReply> | ServiceReply;
/** Keys are "METHOD /path", e.g. "POST /orders". */
export type Routes = Record<string, Handler>;
export type Upstream = { service: string; baseUrl: string };

const maxBodyBytes = 64 * 1024;
// Longer than the mesh's 10 s route timeout, so the sidecar's timeout is the one that shows in telemetry.
const upstreamTimeoutMs = 15_000;

/** An upstream failed: 502 when it answered badly, 503 when it could not be reached at all. */
export class UpstreamError extends AppError {
  readonly upstream: string;
  readonly upstreamStatus: number | undefined;

  constructor(upstream: string, message: string, upstreamStatus?: number, options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, options);
    this.upstream = upstream;
    this.upstreamStatus = upstreamStatus;
  }

  override get httpStatus(): number {
    return this.upstreamStatus === undefined ? 503 : 502;
  }
}

export async function startJsonService(identity: ServiceIdentity, port: number, routes: Routes): Promise<Stop> {
  const server = createServer((req, res) => void handle(identity, routes, req, res));
  // Outlive any client's idle pool (the sidecar's), so a reused connection is never closed under a request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await listen(server, { port, host: "127.0.0.1", what: `${identity.service} ${identity.version}`, envVar: "PORT" });
  const bound = (server.address() as AddressInfo).port;
  console.log(`${identity.service} ${identity.version} listening on 127.0.0.1:${bound}`);
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

async function handle(identity: ServiceIdentity, routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  try {
    const body = await readJsonBody(req);
    if (method === "GET" && path === "/healthz") return sendJson(res, 200, { ...identity, status: "ok" });
    const handler = routes[`${method} ${path}`];
    if (!handler) {
      const known = ["GET /healthz", ...Object.keys(routes)].join(", ");
      throw new AppError("NOT_FOUND", `no route for ${method} ${path}; ${identity.service} serves ${known}`);
    }
    const reply = await handler({ method, path, body, trace: pickTraceHeaders(req.headers) });
    sendJson(res, reply.status ?? 200, { ...identity, ...reply.body });
  } catch (error) {
    if (!isAppError(error)) console.error(`${identity.service}: ${method} ${path} failed:`, error);
    const status = isAppError(error) ? error.httpStatus : 500;
    const message = isAppError(error) ? error.message : "internal error; see the service log";
    const upstream = error instanceof UpstreamError ? { upstream: error.upstream, upstreamStatus: error.upstreamStatus } : {};
    sendJson(res, status, { ...identity, error: message, ...upstream });
  }
}

function sendJson(res: ServerResponse, status: number, body: JsonObject): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new AppError("PAYLOAD_TOO_LARGE", `request body is over ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError("BAD_REQUEST", `request body is not valid JSON (${text.slice(0, 40)}…); send a JSON object`);
  }
}

export type CallOptions = { trace: Record<string, string>; method?: "GET" | "POST"; body?: JsonObject };

/** Calls an upstream through the URL the environment gave (the sidecar's outbound listener, or the app itself). */
export async function callUpstream(upstream: Upstream, path: string, options: CallOptions): Promise<JsonObject> {
  const url = new URL(path, upstream.baseUrl);
  const headers: Record<string, string> = { ...options.trace, accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(upstreamTimeoutMs),
    });
  } catch (error) {
    throw new UpstreamError(upstream.service, `${upstream.service} unreachable at ${url.origin}: ${describeFetchError(error)}`, undefined, {
      cause: error,
    });
  }
  const text = await response.text().catch(() => "");
  const parsed = parseObject(text);
  if (!response.ok) {
    const reason = typeof parsed?.error === "string" ? `: ${parsed.error}` : "";
    throw new UpstreamError(upstream.service, `${upstream.service} answered ${response.status}${reason}`, response.status);
  }
  if (!parsed) throw new UpstreamError(upstream.service, `${upstream.service} answered ${response.status} without a JSON object`, response.status);
  return parsed;
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${upstreamTimeoutMs} ms`;
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && "code" in cause && typeof cause.code === "string") return cause.code;
  return error instanceof Error ? error.message : String(error);
}

/** The upstream a service needs, from its env; a clear error when the launcher (or a person) forgot it. */
export function requireUpstream(service: string, urls: Record<string, string>, urlEnv: string, upstream: string): Upstream {
  const baseUrl = urls[urlEnv];
  if (baseUrl === undefined) {
    throw new AppError("CONFIG", `${service} needs ${urlEnv}, the base URL of ${upstream} (e.g. ${urlEnv}=http://127.0.0.1:9301)`);
  }
  return { service: upstream, baseUrl };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A latency in [min, max) ms, so the dashboard's duration charts have some shape. */
export function jitter(minMs: number, maxMs: number): number {
  return minMs + Math.random() * (maxMs - minMs);
}

/** `ord_4f1c9a0b2e7d`: short, readable ids for orders, payments and reservations. */
export function createId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}
