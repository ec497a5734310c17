// The control plane's end of a sidecar's config stream (POST /v1/stream over h2c, NDJSON both ways): wait for a
// valid hello, register the sidecar, then read its ACKs and NACKs until the stream closes.
import type http2 from "node:http2";
import { createLineSplitter, parseHello, parseSidecarReply, type NodeInfo } from "@trellis/mesh-config";
import type { Connection, Registry } from "./registry.ts";

export const STREAM_PATH = "/v1/stream";
const HELLO_TIMEOUT_MS = 10_000;

type Log = Pick<Console, "info" | "error" | "warn">;

export function handleConfigStream(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  { registry, log = console }: { registry: Registry; log?: Log },
): void {
  stream.on("error", () => {}); // resets are normal (sidecar stopped); 'close' does the cleanup
  if (headers[":path"] !== STREAM_PATH || headers[":method"] !== "POST") {
    refuse(stream, 404, `no HTTP/2 route ${String(headers[":method"])} ${String(headers[":path"])}; sidecars open POST ${STREAM_PATH}`);
    return;
  }

  const splitter = createLineSplitter();
  let connection: Connection | null = null;
  let refused = false;
  const helloTimer = setTimeout(() => {
    refused = true;
    refuse(stream, 408, `no hello message within ${HELLO_TIMEOUT_MS} ms of opening ${STREAM_PATH}`);
  }, HELLO_TIMEOUT_MS);

  const onLine = (line: string) => {
    if (refused) return;
    if (connection === null) {
      clearTimeout(helloTimer);
      const hello = parseHello(line);
      if (!hello.ok) {
        refused = true;
        refuse(stream, 400, `${hello.error}. The first message on ${STREAM_PATH} must be {"type":"hello","node":{...}}`);
        return;
      }
      const { node } = hello.value;
      log.info(`control-plane: ${node.id} connected (${node.mode} of ${node.namespace}/${node.service} ${node.version} at ${node.address})`);
      connection = accept(stream, node, registry);
      return;
    }
    const reply = parseSidecarReply(line);
    if (!reply.ok) {
      log.warn(`control-plane: ignoring message from ${connection.node.id}: ${reply.error}`);
      return;
    }
    if (reply.value.type === "nack") {
      log.warn(`control-plane: ${connection.node.id} rejected config version ${reply.value.version}: ${reply.value.error}`);
    }
    registry.recordReply(connection, reply.value);
  };

  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    try {
      for (const line of splitter.push(chunk)) onLine(line);
    } catch (error) {
      log.error(`control-plane: closing config stream: ${(error as Error).message}`);
      stream.close();
    }
  });
  stream.on("close", () => {
    clearTimeout(helloTimer);
    if (connection === null) return;
    log.info(`control-plane: ${connection.node.id} disconnected`);
    registry.disconnect(connection);
  });
}

function accept(stream: http2.ServerHttp2Stream, node: NodeInfo, registry: Registry): Connection {
  stream.respond({ ":status": 200, "content-type": "application/x-ndjson" });
  return registry.connect(node, {
    send: (line) => {
      if (!stream.destroyed) stream.write(line);
    },
    close: () => stream.close(),
  });
}

function refuse(stream: http2.ServerHttp2Stream, status: number, message: string): void {
  if (stream.destroyed) return;
  if (!stream.headersSent) stream.respond({ ":status": status, "content-type": "application/json" });
  // The error body goes out first; the reset then ends the stream even if the sidecar never closes its side.
  stream.end(JSON.stringify({ error: message }), () => stream.close());
}
