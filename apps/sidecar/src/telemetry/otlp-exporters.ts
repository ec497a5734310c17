// The OTLP/HTTP POST of sealed span and access-log batches (export-queue.ts): over a keep-alive agent, as the
// official OTLP/HTTP proto exporters do (same URL, Content-Type, 10 s timeout, no compression, a few retries of
// retryable answers within that timeout). A batch that still fails is reported so export-queue.ts counts it,
// and is dropped: a dead collector never holds memory or the event loop.
import http from "node:http";
import https from "node:https";

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

/**
 * Called once per POST: null when the collector took the batch, else why it did not. `released`: the body was
 * written out in full and nothing will read it again (no retry), so the caller may reuse its memory.
 */
export type PostDone = (error: Error | null, released: boolean) => void;

export type OtlpPoster = {
  post: (body: Uint8Array, done: PostDone) => void;
  /** Waits for the POST in flight, if any, then closes the connections. */
  shutdown: () => Promise<void>;
};

export function createOtlpPoster({ url, headers: extraHeaders = {}, timeoutMs = EXPORT_TIMEOUT_MS }: { url: string; headers?: Record<string, string>; timeoutMs?: number }): OtlpPoster {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  // One batch is in flight at a time per signal (export-queue.ts); two sockets cover a slow response overlapping.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 2 });
  const headers = { ...extraHeaders, "content-type": "application/x-protobuf", "user-agent": "trellis-sidecar" };
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const settle = (done: PostDone, error: Error | null, released: boolean) => {
    inFlight -= 1;
    if (inFlight === 0) for (const wake of waiters.splice(0)) wake();
    done(error, released);
  };

  return {
    post(body, done) {
      inFlight += 1;
      let settled = false;
      const finish = (error: Error | null, released = false) => {
        if (settled) return;
        settled = true;
        settle(done, error, released);
      };
      const deadline = Date.now() + timeoutMs;
      // OTLP/HTTP's retryable answers (429, 502, 503, 504, honouring Retry-After) and refused or reset connections
      // are tried again a few times within the export timeout; meanwhile the bounded queue (export-queue.ts) keeps
      // absorbing (and counting what it drops), so a collector pushing back never holds a request up.
      const attempt = (retriesLeft: number) => {
        const retryOrFail = (error: Error, retryAfterMs: number | null) => {
          const delayMs = retryAfterMs ?? RETRY_BASE_MS * 2 ** (MAX_RETRIES - retriesLeft) * (0.5 + Math.random() / 2);
          if (retriesLeft === 0 || Date.now() + delayMs >= deadline) return finish(error);
          setTimeout(() => attempt(retriesLeft - 1), delayMs).unref();
        };
        const remainingMs = Math.max(1, deadline - Date.now());
        const req = client.request(target, { method: "POST", agent, headers: { ...headers, "content-length": body.length }, timeout: remainingMs }, (res) => {
          const status = res.statusCode ?? 0;
          // Drain the answer so the socket goes back to the pool.
          res.resume();
          // Answered after a turn of the loop: the agent frees the socket on the next tick, and the caller's next
          // batch, sent from `done`, should find it in the pool rather than open another connection.
          res.once("end", () =>
            setImmediate(() => {
              // Taken: the body is only released once all of it was handed to the kernel ('finish'), never while
              // a write of it may still be pending (an early answer).
              if (status >= 200 && status < 300) return finish(null, req.writableFinished);
              const error = new Error(`OTLP export to ${url} answered ${status}`);
              if (RETRYABLE_STATUSES.has(status)) return retryOrFail(error, readRetryAfterMs(res.headers["retry-after"]));
              finish(error);
            }),
          );
          res.once("error", finish);
        });
        req.once("timeout", () => req.destroy(new Error(`OTLP export to ${url} took longer than ${timeoutMs} ms`)));
        req.once("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "ECONNREFUSED" || error.code === "ECONNRESET") return retryOrFail(error, null);
          finish(error);
        });
        req.end(body);
      };
      attempt(MAX_RETRIES);
    },
    async shutdown() {
      if (inFlight > 0) await new Promise<void>((resolve) => waiters.push(resolve));
      waiters = [];
      agent.destroy();
    },
  };
}
