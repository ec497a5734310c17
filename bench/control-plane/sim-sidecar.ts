// A simulated sidecar speaking the real config-stream protocol (h2c POST /v1/stream, NDJSON): hello, then every
// pushed config parsed and validated with the same schema the real sidecar uses, and ACKed (or NACKed) by version
// and nonce. It reports when each config arrived and when it answered.
import http2 from "node:http2";
import { createLineSplitter, encodeLine, parseConfigMessage, readVersionAndNonce, type NodeInfo } from "@trellis/mesh-config";

export type ReplyEvent = { id: string; version: number; ok: boolean; error?: string; receivedAt: number; repliedAt: number; bytes: number };

export type SimSidecar = { node: NodeInfo; close: () => void };

/** Wall-clock milliseconds with sub-millisecond resolution. */
export const now = (): number => performance.timeOrigin + performance.now();

export function connectSidecar({ url, node, onReply, onClose }: { url: string; node: NodeInfo; onReply: (event: ReplyEvent) => void; onClose?: () => void }): SimSidecar {
  const session = http2.connect(url);
  session.on("error", () => {});
  const stream = session.request({ ":method": "POST", ":path": "/v1/stream", "content-type": "application/x-ndjson" });
  stream.on("error", () => {});
  stream.on("close", () => onClose?.());
  stream.write(encodeLine({ type: "hello", node }));
  const splitter = createLineSplitter();
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const receivedAt = now();
    for (const line of splitter.push(chunk)) {
      const parsed = parseConfigMessage(line);
      if (parsed.ok) {
        stream.write(encodeLine({ type: "ack", version: parsed.value.version, nonce: parsed.value.nonce }));
        onReply({ id: node.id, version: parsed.value.version, ok: true, receivedAt, repliedAt: now(), bytes: line.length });
      } else {
        const { version, nonce } = readVersionAndNonce(line);
        stream.write(encodeLine({ type: "nack", version, nonce, error: parsed.error }));
        onReply({ id: node.id, version, ok: false, error: parsed.error, receivedAt, repliedAt: now(), bytes: line.length });
      }
    }
  });
  return { node, close: () => session.destroy() };
}

export function simNode(id: string, service: string, version: string, port: number, upstreams: string[]): NodeInfo {
  return {
    id,
    service,
    namespace: "default",
    version,
    mode: "sidecar",
    labels: { app: service, version },
    address: `127.0.0.1:${port}`,
    inboundUrl: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${port + 10_000}`,
    upstreams,
  };
}
