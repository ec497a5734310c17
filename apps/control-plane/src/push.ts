// Turns registry changes into config pushes: bursts of changes (a mesh starting up) are debounced into one
// generation bump, every connected sidecar's snapshot is rebuilt and checked, and only the sidecars whose
// snapshot actually changed get the new version.
import { createHash, randomBytes } from "node:crypto";
import { buildSnapshot, canonicalJson, checkSnapshot, type RegisteredWorkload } from "@trellis/mesh-config";
import type { Connection, Registry } from "./registry.ts";

export const DEBOUNCE_MS = 20;
/**
 * After a restart the registry is empty until sidecars reconnect, and a caller that came back first would be
 * pushed a snapshot missing the endpoints still on their way. So pushes wait until every sidecar that was connected
 * when the previous run ended is back, or this long (above the sidecars' reconnect backoff cap). Sidecars keep
 * serving their last config meanwhile.
 */
export const RECONNECT_GRACE_MS = 8_000;

export type Pusher = {
  /** Notes a registry change; one bump and push follows within DEBOUNCE_MS. */
  schedule: () => void;
  generation: () => number;
  stop: () => void;
};

export function createPusher({
  registry,
  initialGeneration,
  awaitReconnect = [],
  debounceMs = DEBOUNCE_MS,
  graceMs = RECONNECT_GRACE_MS,
  log = console,
}: {
  registry: Registry;
  initialGeneration: number;
  /** Workload ids expected back after a restart; no push goes out until they are, or graceMs passed. */
  awaitReconnect?: string[];
  debounceMs?: number;
  graceMs?: number;
  log?: Pick<Console, "info" | "error">;
}): Pusher {
  let generation = initialGeneration;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const awaited = new Set(awaitReconnect);
  let graceTimer: NodeJS.Timeout | undefined;
  if (awaited.size > 0) {
    log.info(`control-plane: waiting up to ${graceMs} ms for ${awaited.size} sidecar(s) of the previous run to reconnect before pushing`);
    graceTimer = setTimeout(() => {
      log.info(`control-plane: pushing without ${[...awaited].join(", ")}, which did not reconnect`);
      awaited.clear();
      schedule();
    }, graceMs);
  }

  const holding = () => {
    if (awaited.size === 0) return false;
    for (const connection of registry.connections()) awaited.delete(connection.node.id);
    if (awaited.size > 0) return true;
    clearTimeout(graceTimer);
    return false;
  };

  const pushAll = () => {
    timer = undefined;
    if (holding()) return; // every registry change re-schedules, and the grace timer ends the wait
    generation += 1;
    const connections = registry.connections();
    const workloads = connections.map(toRegisteredWorkload);
    for (const connection of connections) pushTo(connection, workloads, generation, registry, log);
  };

  function schedule(): void {
    if (stopped) return;
    // Not reset by later changes: under constant churn pushes still go out every debounceMs.
    timer ??= setTimeout(pushAll, debounceMs);
  }

  return {
    schedule,
    generation: () => generation,
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
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
