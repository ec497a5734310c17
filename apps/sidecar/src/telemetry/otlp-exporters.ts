// The span and access-log exporters: the SDK's batch processors hand them finished spans / log records, which are
// encoded with @trellis/otlp's hand-written protobuf encoders (about half the CPU of the official serializers, see
// bench/results/sidecar-telemetry-cost.md) and POSTed over a keep-alive agent, as the official OTLP/HTTP proto
// exporters do (same URL, Content-Type, 10 s timeout, no compression), minus their retries: a failed batch is
// counted by drop-counting.ts and dropped, so a dead collector never holds memory or the event loop.
import http from "node:http";
import https from "node:https";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { encodeLogsExport, encodeResource, encodeScope, encodeTraceExport } from "@trellis/otlp/encode";

export const EXPORT_TIMEOUT_MS = 10_000;

type Done = (result: ExportResult) => void;

type OtlpPoster = {
  post: (body: Uint8Array, done: Done) => void;
  /** Resolves once no POST is in flight. */
  idle: () => Promise<void>;
  shutdown: () => Promise<void>;
};

function createPoster(url: string, timeoutMs: number): OtlpPoster {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  // The batch processors send one batch at a time per signal; two sockets cover a slow response overlapping.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 2 });
  const headers = { "content-type": "application/x-protobuf", "user-agent": "trellis-sidecar" };
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
      const req = client.request(target, { method: "POST", agent, headers: { ...headers, "content-length": body.length }, timeout: timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        // Drain the answer so the socket goes back to the pool.
        res.resume();
        res.once("end", () => finish(status >= 200 && status < 300 ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(`OTLP export to ${url} answered ${status}`) }));
        res.once("error", (error) => finish({ code: ExportResultCode.FAILED, error }));
      });
      req.once("timeout", () => req.destroy(new Error(`OTLP export to ${url} took longer than ${timeoutMs} ms`)));
      req.once("error", (error) => finish({ code: ExportResultCode.FAILED, error }));
      req.end(body);
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
export function createSpanExporter({ url, resource, scopeName, timeoutMs = EXPORT_TIMEOUT_MS }: { url: string; resource: Resource; scopeName: string; timeoutMs?: number }): SpanExporter {
  const poster = createPoster(url, timeoutMs);
  const resourceField = encodeResource(resource.attributes);
  const scope = encodeScope(scopeName);
  return {
    export: (spans: ReadableSpan[], done: Done) => encodeAndPost(poster, () => encodeTraceExport(resourceField, scope, spans), done),
    forceFlush: () => poster.idle(),
    shutdown: () => poster.shutdown(),
  };
}

/** As createSpanExporter, for the access log's records (one logger, `scopeName`). */
export function createLogExporter({ url, resource, scopeName, timeoutMs = EXPORT_TIMEOUT_MS }: { url: string; resource: Resource; scopeName: string; timeoutMs?: number }): LogRecordExporter {
  const poster = createPoster(url, timeoutMs);
  const resourceField = encodeResource(resource.attributes);
  const scope = encodeScope(scopeName);
  return {
    export: (records: ReadableLogRecord[], done: Done) => encodeAndPost(poster, () => encodeLogsExport(resourceField, scope, records), done),
    forceFlush: () => poster.idle(),
    shutdown: () => poster.shutdown(),
  };
}
