// The simulated mesh: 200 sidecars over the seed's services plus one more, each calling order-service (so the
// seed canary's weights reach every one of them), and the extra order-service v2 instance whose re-registrations at
// alternating addresses stand in for an apply where the policy API is not there.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { NodeInfo } from "@trellis/mesh-config";
import type { FleetWorkerInput, FleetWorkerMessage } from "./fleet-worker.ts";
import { simNode, type ReplyEvent } from "./sim-sidecar.ts";

const SERVICES: Array<{ service: string; version: string; count: number; upstreams: string[] }> = [
  { service: "frontend", version: "v1", count: 40, upstreams: ["catalog-service", "order-service"] },
  { service: "order-service", version: "v1", count: 30, upstreams: ["order-service", "payment-service", "inventory-service"] },
  { service: "order-service", version: "v2", count: 10, upstreams: ["order-service", "payment-service", "inventory-service"] },
  { service: "payment-service", version: "v1", count: 30, upstreams: ["order-service"] },
  { service: "inventory-service", version: "v1", count: 30, upstreams: ["order-service"] },
  { service: "catalog-service", version: "v1", count: 30, upstreams: ["order-service"] },
  { service: "shipping-service", version: "v1", count: 30, upstreams: ["order-service", "inventory-service"] },
];

export const FLEET_SIZE = SERVICES.reduce((sum, s) => sum + s.count, 0);

export function buildFleet(): NodeInfo[] {
  const nodes: NodeInfo[] = [];
  let port = 40_000;
  for (const { service, version, count, upstreams } of SERVICES) {
    for (let i = 0; i < count; i += 1) nodes.push(simNode(`${service}-${version}-${i}`, service, version, (port += 1), upstreams));
  }
  return nodes;
}

export const probeNode = (port: number): NodeInfo => simNode("order-service-v2-probe", "order-service", "v2", port, ["payment-service"]);

// Node 20 loads a worker's entry module before `--import tsx` takes effect in it, so the worker registers tsx itself.
const workerBootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(new URL("./fleet-worker.ts", import.meta.url).href)}); })`;

/** The fleet's threads: one per core (TRELLIS_BENCH_FLEET_THREADS overrides), the sidecars dealt round-robin. */
export function startFleet({ url, nodes, onReply }: { url: string; nodes: NodeInfo[]; onReply: (event: ReplyEvent) => void }): {
  threads: number;
  close: () => Promise<void>;
} {
  const threads = Math.max(1, Number(process.env.TRELLIS_BENCH_FLEET_THREADS) || availableParallelism());
  const workers = Array.from({ length: threads }, (_, index) => {
    const share = nodes.filter((_, i) => i % threads === index);
    const worker = new Worker(workerBootstrap, { eval: true, workerData: { url, nodes: share } satisfies FleetWorkerInput });
    worker.on("message", (message: FleetWorkerMessage) => message.events.forEach(onReply));
    worker.on("error", (error) => console.error(`bench control-plane: a fleet thread failed: ${error.stack ?? error.message}`));
    return worker;
  });
  return {
    threads,
    close: async () => {
      await Promise.all(
        workers.map(async (worker) => {
          const exited = new Promise((resolve) => worker.once("exit", resolve));
          worker.postMessage({ type: "close" });
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000))]);
          await worker.terminate();
        }),
      );
    },
  };
}
