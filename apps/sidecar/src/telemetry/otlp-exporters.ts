// The span and access-log exporters: the SDK's batch processors hand them finished spans / log records, which are
// encoded with @trellis/otlp's hand-written protobuf encoders (about half the CPU of the official serializers, see
// bench/results/sidecar-telemetry-cost.md) and POSTed over a keep-alive agent, as the official OTLP/HTTP proto
// exporters do (same URL, Content-Type, 10 s timeout, no compression, a few retries of retryable answers within
// that timeout); a batch that still fails is counted by drop-counting.ts and dropped, so a dead collector never
// holds memory or the event loop.
import http from "node:http";
import https from "node:https";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { encodeLogsExport, encodeResource, encodeScope, encodeTraceExport } from "@trellis/otlp/encode";

export const EXPORT_TIMEOUT_MS = 10_000;
const MAX_RETRIES = 2;
const RETRY_BASE_MS = 250;
const RETRY_AFTER_CAP_MS = 5_000;
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** Retry-After in seconds (the form OTLP receivers send), capped; null when absent or an HTTP date. */
function readRetryAfterMs(value: string | undefined): number | null {
  const seconds = Number(value);
  return value === undefined || !Number.isFinite(seconds) || seconds < 0 ? null : Math.min(seconds * 1000, RETRY_AFTER_CAP_MS);
}

type Done = (result: ExportResult) => void;

type OtlpPoster = {
  post: (body: Uint8Array, done: Done) => void;
  /** Resolves once no POST is in flight. */
  idle: () => Promise<void>;
  shutdown: () => Promise<void>;
};

function createPoster(url: string, timeoutMs: number, extraHeaders: Record<string, string>): OtlpPoster {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  // The batch processors send one batch at a time per signal; two sockets cover a slow response overlapping.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 2 });
  const headers = { ...extraHeaders, "content-type": "application/x-protobuf", "user-agent": "trellis-sidecar" };
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const settle = (done: Done, result: ExportResult) => {
    inFlight -= 1;
    if (inFlight === 0) for (const wake of waiters.splice(0)) wake();
    done(result);
  };

  return {
    post(body, done) {
      inFlight += 1;
      let settled = false;
      const finish = (result: ExportResult) => {
        if (settled) return;
        settled = true;
        settle(done, result);
      };
      const deadline = Date.now() + timeoutMs;
      // OTLP/HTTP's retryable answers (429, 502, 503, 504, honouring Retry-After) and refused or reset connections
      // are tried again a few times within the export timeout; meanwhile the batch processor's bounded queue keeps
      // absorbing (and counting what it drops), so a collector pushing back never holds a request up.
      const attempt = (retriesLeft: number) => {
        const retryOrFail = (error: Error, retryAfterMs: number | null) => {
          const delayMs = retryAfterMs ?? RETRY_BASE_MS * 2 ** (MAX_RETRIES - retriesLeft) * (0.5 + Math.random() / 2);
          if (retriesLeft === 0 || Date.now() + delayMs >= deadline) return finish({ code: ExportResultCode.FAILED, error });
          setTimeout(() => attempt(retriesLeft - 1), delayMs).unref();
        };
        const remainingMs = Math.max(1, deadline - Date.now());
        const req = client.request(target, { method: "POST", agent, headers: { ...headers, "content-length": body.length }, timeout: remainingMs }, (res) => {
          const status = res.statusCode ?? 0;
          // Drain the answer so the socket goes back to the pool.
          res.resume();
          res.once("end", () => {
            if (status >= 200 && status < 300) return finish({ code: ExportResultCode.SUCCESS });
            const error = new Error(`OTLP export to ${url} answered ${status}`);
            if (RETRYABLE_STATUSES.has(status)) return retryOrFail(error, readRetryAfterMs(res.headers["retry-after"]));
            finish({ code: ExportResultCode.FAILED, error });
          });
          res.once("error", (error) => finish({ code: ExportResultCode.FAILED, error }));
        });
        req.once("timeout", () => req.destroy(new Error(`OTLP export to ${url} took longer than ${timeoutMs} ms`)));
        req.once("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED" || error.code === "ECONNRESET") return retryOrFail(error, null);
          finish({ code: ExportResultCode.FAILED, error });
        });
        req.end(body);
      };
      attempt(MAX_RETRIES);
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    async shutdown() {
      if (inFlight > 0) await new Promise<void>((resolve) => waiters.push(resolve));
      waiters = [];
      agent.destroy();
    },
  };
}

function encodeAndPost(poster: OtlpPoster, encode: () => Uint8Array, done: Done): void {
  let body: Uint8Array;
  try {
    body = encode();
  } catch (error) {
    done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    return;
  }
  poster.post(body, done);
}

/**
 * OTLP/HTTP protobuf span exporter for one provider: every span comes from `resource` and the tracer `scopeName`
 * (the sidecar has one tracer), whose bytes are encoded once here.
 */
export function createSpanExporter({ url, headers = {}, resource, scopeName, timeoutMs = EXPORT_TIMEOUT_MS }: { url: string; headers?: Record<string, string>; resource: Resource; scopeName: string; timeoutMs?: number }): SpanExporter {
  const poster = createPoster(url, timeoutMs, headers);
  const resourceField = encodeResource(resource.attributes);
  const scope = encodeScope(scopeName);
  return {
    export: (spans: ReadableSpan[], done: Done) => encodeAndPost(poster, () => encodeTraceExport(resourceField, scope, spans), done),
    forceFlush: () => poster.idle(),
    shutdown: () => poster.shutdown(),
  };
}

/** As createSpanExporter, for the access log's records (one logger, `scopeName`). */
export function createLogExporter({ url, headers = {}, resource, scopeName, timeoutMs = EXPORT_TIMEOUT_MS }: { url: string; headers?: Record<string, string>; resource: Resource; scopeName: string; timeoutMs?: number }): LogRecordExporter {
  const poster = createPoster(url, timeoutMs, headers);
  const resourceField = encodeResource(resource.attributes);
  const scope = encodeScope(scopeName);
  return {
    export: (records: ReadableLogRecord[], done: Done) => encodeAndPost(poster, () => encodeLogsExport(resourceField, scope, records), done),
    forceFlush: () => poster.idle(),
    shutdown: () => poster.shutdown(),
  };
}
