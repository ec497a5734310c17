// One thread of the simulated fleet: connects its share of the sidecars and reports every reply to the benchmark's
// main thread. 200 real sidecars parse and validate their configs in parallel, each in its own process; spreading
// the simulated ones over one thread per core keeps their validation from queueing behind each other on one thread.
import { parentPort, workerData } from "node:worker_threads";
import type { NodeInfo } from "@trellis/mesh-config";
import { connectSidecar, type ReplyEvent } from "./sim-sidecar.ts";

export type FleetWorkerInput = { url: string; nodes: NodeInfo[] };
export type FleetWorkerMessage = { type: "replies"; events: ReplyEvent[] };

const port = parentPort;
if (!port) throw new Error("fleet-worker.ts runs as a worker thread of the control-plane benchmark");
const { url, nodes } = workerData as FleetWorkerInput;

// Replies that arrive in the same turn of the event loop go to the main thread as one message.
let pending: ReplyEvent[] = [];
const flush = () => {
  const events = pending;
  pending = [];
  port.postMessage({ type: "replies", events } satisfies FleetWorkerMessage);
};
const onReply = (event: ReplyEvent) => {
  if (pending.length === 0) setImmediate(flush);
  pending.push(event);
};

const sidecars = nodes.map((node) => connectSidecar({ url, node, onReply }));
port.on("message", (message: { type: "close" }) => {
  if (message.type !== "close") return;
  for (const sidecar of sidecars) sidecar.close();
  port.close();
});
