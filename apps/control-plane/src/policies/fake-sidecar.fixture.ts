// A test sidecar on the real config stream: enough protocol (hello, config pushes, ACK/NACK) to drive the control
// plane's policy push from a test without starting the real sidecar.
import http2 from "node:http2";
import { createLineSplitter, encodeLine, type ConfigMessage, type NodeInfo } from "@trellis/mesh-config";

export type FakeSidecar = {
  /** Every config pushed so far, oldest first. */
  configs: ConfigMessage[];
  /** When each of `configs` arrived (performance.now()). */
  arrivals: number[];
  /** The first pushed config (already received or still to come) that satisfies `match`; waits up to 10 s. */
  waitForConfig: (match: (config: ConfigMessage) => boolean) => Promise<ConfigMessage>;
  ack: (config: ConfigMessage) => void;
  nack: (config: ConfigMessage, error: string) => void;
  close: () => void;
};

export function workloadNode(id: string, service: string, version: string, port: number, upstreams: string[] = []): NodeInfo {
  return {
    id,
    service,
    namespace: "default",
    version,
    mode: "sidecar",
    labels: { app: service, version },
    address: `127.0.0.1:${port}`,
    inboundUrl: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${port + 1}`,
    upstreams,
  };
}

/** Connects and registers `node`; with `autoAck` (the default) every push is ACKed as it arrives. */
export function connectFakeSidecar(port: number, node: NodeInfo, { autoAck = true } = {}): FakeSidecar {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {});
  const stream = session.request({ ":method": "POST", ":path": "/v1/stream" });
  stream.on("error", () => {});
  const send = (message: unknown) => stream.write(encodeLine(message));
  send({ type: "hello", node });
  const splitter = createLineSplitter();
  const configs: ConfigMessage[] = [];
  const arrivals: number[] = [];
  const ack = (config: ConfigMessage) => send({ type: "ack", version: config.version, nonce: config.nonce });
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    for (const line of splitter.push(chunk)) {
      if (!line.startsWith('{"type":"config"')) continue;
      const config = JSON.parse(line) as ConfigMessage;
      configs.push(config);
      arrivals.push(performance.now());
      if (autoAck) ack(config);
    }
  });
  return {
    configs,
    arrivals,
    async waitForConfig(match) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = configs.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`${node.id}: no matching config push within 10 s; got ${JSON.stringify(configs.map((c) => c.version))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    ack,
    nack: (config, error) => send({ type: "nack", version: config.version, nonce: config.nonce, error }),
    close: () => session.destroy(),
  };
}
