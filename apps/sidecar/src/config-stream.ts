// The sidecar's end of the config stream: an h2c connection to the control plane, hello first, then each pushed
// config applied and ACKed (or NACKed). When the stream drops it reconnects with capped, jittered exponential
// backoff while the listeners keep serving on the last config (fail static).
import http2 from "node:http2";
import { createLineSplitter, encodeLine, type NodeInfo } from "@trellis/mesh-config";
import { computeBackoff, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
import type { ConfigStore } from "./config-store.ts";
import type { Logger } from "./options.ts";

export const STREAM_PATH = "/v1/stream";
/** A control plane that stops answering HTTP/2 PINGs (hung, or a silent network partition) counts as gone. */
const PING_INTERVAL_MS = 15_000;
const PING_TIMEOUT_MS = 10_000;

export type StreamStatus = { connected: boolean; lastError: string | null };

export type ConfigStream = { status: () => StreamStatus; stop: () => void };

export function startConfigStream({
  controlPlaneUrl,
  node,
  store,
  log,
  backoff = DEFAULT_BACKOFF,
}: {
  controlPlaneUrl: string;
  node: NodeInfo;
  store: ConfigStore;
  log: Logger;
  backoff?: BackoffOptions;
}): ConfigStream {
  let stopped = false;
  let attempt = 0;
  let session: http2.ClientHttp2Session | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const state: StreamStatus = { connected: false, lastError: null };

  const fail = (message: string) => {
    // Log a failure once per change, not on every retry of a control plane that is simply down.
    if (state.lastError !== message) log.warn(`sidecar ${node.id}: config stream: ${message}`);
    state.lastError = message;
  };

  const reconnectLater = () => {
    if (stopped) return;
    if (state.connected) log.warn(`sidecar ${node.id}: config stream to ${controlPlaneUrl} closed; serving the last config and reconnecting`);
    state.connected = false;
    const delay = computeBackoff(attempt, backoff);
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  };

  function connect(): void {
    if (stopped) return;
    const current = http2.connect(controlPlaneUrl);
    session = current;
    current.on("error", (error: NodeJS.ErrnoException) => fail(`cannot reach the control plane at ${controlPlaneUrl}: ${error.code ?? error.message}`));
    const pinger = setInterval(() => pingOrDrop(current), PING_INTERVAL_MS).unref();
    current.once("close", () => {
      clearInterval(pinger);
      if (session === current) reconnectLater();
    });

    const stream = current.request({ ":method": "POST", ":path": STREAM_PATH, "content-type": "application/x-ndjson" });
    stream.on("error", () => {}); // the session's 'close' drives reconnection
    stream.once("close", () => current.close());
    stream.write(encodeLine({ type: "hello", node }));

    let status = 0;
    let refusal = "";
    const splitter = createLineSplitter();
    stream.setEncoding("utf8");
    stream.once("response", (headers) => {
      status = Number(headers[":status"]);
      if (status !== 200) return;
      state.connected = true;
      state.lastError = null;
      attempt = 0;
      log.info(`sidecar ${node.id}: config stream to ${controlPlaneUrl} open`);
    });
    stream.on("data", (chunk: string) => {
      if (status !== 200) {
        refusal += chunk;
        return;
      }
      try {
        for (const line of splitter.push(chunk)) {
          const result = store.apply(line);
          if (result.ok) stream.write(encodeLine({ type: "ack", version: result.version, nonce: result.nonce }));
          else {
            log.error(`sidecar ${node.id}: rejected config version ${result.version}, keeping the last good one: ${result.error}`);
            stream.write(encodeLine({ type: "nack", version: result.version, nonce: result.nonce, error: result.error }));
          }
        }
      } catch (error) {
        fail((error as Error).message);
        stream.close();
      }
    });
    stream.once("end", () => {
      if (status !== 200 && status !== 0) fail(`the control plane refused the stream (HTTP ${status}): ${readError(refusal)}`);
    });
  }

  connect();
  return {
    status: () => ({ ...state }),
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      session?.destroy();
    },
  };
}

function pingOrDrop(session: http2.ClientHttp2Session): void {
  if (session.closed || session.destroyed) return;
  const timer = setTimeout(() => session.destroy(new Error(`no answer to a ping within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS).unref();
  const sent = session.ping(() => clearTimeout(timer));
  if (!sent) clearTimeout(timer); // too many unanswered pings already in flight; the next round retries
}

function readError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === "string" ? parsed.error : body;
  } catch {
    return body;
  }
}
