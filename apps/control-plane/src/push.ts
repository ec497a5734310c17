// Turns registry changes into config pushes: bursts of changes (a mesh starting up) are debounced into one
// generation bump, every connected sidecar's snapshot is rebuilt and checked, and only the sidecars whose
// snapshot actually changed get the new version.
import { createHash, randomBytes } from "node:crypto";
import { buildSnapshot, canonicalJson, checkSnapshot, type RegisteredWorkload } from "@trellis/mesh-config";
import type { Connection, Registry } from "./registry.ts";

export const DEBOUNCE_MS = 20;

export type Pusher = {
  /** Notes a registry change; one bump and push follows within DEBOUNCE_MS. */
  schedule: () => void;
  generation: () => number;
  stop: () => void;
};

export function createPusher({
  registry,
  initialGeneration,
  debounceMs = DEBOUNCE_MS,
  log = console,
}: {
  registry: Registry;
  initialGeneration: number;
  debounceMs?: number;
  log?: Pick<Console, "error">;
}): Pusher {
  let generation = initialGeneration;
  let timer: NodeJS.Timeout | undefined;

  const pushAll = () => {
    timer = undefined;
    generation += 1;
    const connections = registry.connections();
    const workloads = connections.map(toRegisteredWorkload);
    for (const connection of connections) pushTo(connection, workloads, generation, registry, log);
  };

  return {
    schedule() {
      // Not reset by later changes: under constant churn pushes still go out every debounceMs.
      timer ??= setTimeout(pushAll, debounceMs);
    },
    generation: () => generation,
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

function pushTo(connection: Connection, workloads: RegisteredWorkload[], version: number, registry: Registry, log: Pick<Console, "error">): void {
  const snapshot = buildSnapshot({ node: toRegisteredWorkload(connection), workloads });
  const check = checkSnapshot(snapshot);
  if (!check.ok) {
    // Never cut a version from an inconsistent snapshot; the sidecar keeps what it has.
    log.error(`control-plane: not pushing to ${connection.node.id}: inconsistent snapshot: ${check.errors.join("; ")}`);
    return;
  }
  const hash = createHash("sha256").update(canonicalJson(snapshot)).digest("hex");
  if (connection.pushed?.hash === hash) return;
  const nonce = randomBytes(8).toString("hex");
  connection.send({ type: "config", version, nonce, snapshot });
  registry.recordPush(connection, { version, nonce, hash });
}

function toRegisteredWorkload({ node }: Connection): RegisteredWorkload {
  return {
    id: node.id,
    service: node.service,
    namespace: node.namespace,
    version: node.version,
    mode: node.mode,
    labels: node.labels,
    address: node.address,
    upstreams: node.upstreams,
  };
}
