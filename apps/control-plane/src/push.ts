// Turns registry and policy changes into config pushes: bursts of changes (a mesh starting up) are debounced into
// one generation bump, every connected sidecar's snapshot is rebuilt from the registry and the current policies and
// checked, and only the sidecars whose snapshot actually changed get the new version. Sidecars with the same inputs
// share one snapshot, which is checked, serialised and hashed once per round.
import { createHash, randomBytes } from "node:crypto";
import { buildSnapshots, checkSnapshot, type NodeInfo, type Policy, type RegisteredWorkload, type Snapshot } from "@trellis/mesh-config";
import type { Connection, Registry } from "./registry.ts";

export const DEBOUNCE_MS = 20;
/**
 * After a restart the registry is empty until sidecars reconnect, and a caller that came back first would be
 * pushed a snapshot missing the endpoints still on their way. So pushes wait until every sidecar that was connected
 * when the previous run ended is back, or this long (above the sidecars' reconnect backoff cap). Sidecars keep
 * serving their last config meanwhile.
 */
export const RECONNECT_GRACE_MS = 8_000;

/** One config push to one sidecar. */
export type PushRecord = { connection: Connection; version: number; nonce: string };

/** What one debounced push round sent: only the sidecars whose snapshot changed. */
export type PushRound = { generation: number; pushes: PushRecord[] };

export type Pusher = {
  /** Notes a registry (or policy) change; one bump and push follows within DEBOUNCE_MS. */
  schedule: () => void;
  /**
   * Pushes now, before returning, rather than after the debounce (a policy apply is one change, not a burst) and
   * resolves with that round, or with the next one that is not held back.
   */
  nextRound: () => Promise<PushRound>;
  generation: () => number;
  stop: () => void;
};

export function createPusher({
  registry,
  policies = () => [],
  initialGeneration,
  awaitReconnect = [],
  debounceMs = DEBOUNCE_MS,
  graceMs = RECONNECT_GRACE_MS,
  log = console,
}: {
  registry: Registry;
  /** The current policy set, read at every push (the policy store replaces it after each apply). */
  policies?: () => readonly Policy[];
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
  const roundWaiters: Array<(round: PushRound) => void> = [];
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
    // Endpoints come from every workload still in the mesh (disconnected ones stay during their grace period);
    // snapshots are built only for the sidecars that have a stream to push to.
    const snapshots = buildSnapshots({
      workloads: registry.workloads().map(toRegisteredWorkload),
      nodes: connections.map((connection) => toRegisteredWorkload(connection.node)),
      policies: policies(),
    });
    const encoded = new Map<Snapshot, EncodedSnapshot>();
    // Nonces only need to be unique per push: one random draw per round, numbered (a draw per push cost more than
    // the rest of the round's bookkeeping).
    const nonceBase = randomBytes(6).toString("hex");
    const pushes: PushRecord[] = [];
    for (const connection of connections) {
      const snapshot = snapshots.get(connection.node.id);
      if (snapshot === undefined) {
        log.error(`control-plane: not pushing to ${connection.node.id}: no snapshot was built for it`);
        continue;
      }
      let body = encoded.get(snapshot);
      if (body === undefined) {
        body = encodeSnapshot(snapshot);
        encoded.set(snapshot, body);
      }
      if (!body.ok) {
        // Never cut a version from an inconsistent snapshot; the sidecar keeps what it has.
        log.error(`control-plane: not pushing to ${connection.node.id}: inconsistent snapshot: ${body.errors.join("; ")}`);
        continue;
      }
      if (connection.pushed?.hash === body.hash) continue;
      const nonce = `${nonceBase}-${pushes.length}`;
      connection.send(encodeConfigLine(generation, nonce, body.body));
      registry.recordPush(connection, { version: generation, nonce, hash: body.hash });
      pushes.push({ connection, version: generation, nonce });
    }
    for (const resolve of roundWaiters.splice(0)) resolve({ generation, pushes });
  };

  function schedule(): void {
    if (stopped) return;
    // Not reset by later changes: under constant churn pushes still go out every debounceMs.
    timer ??= setTimeout(pushAll, debounceMs);
  }

  return {
    schedule,
    nextRound() {
      if (stopped) return Promise.resolve({ generation, pushes: [] });
      const round = new Promise<PushRound>((resolve) => roundWaiters.push(resolve));
      clearTimeout(timer);
      pushAll();
      return round;
    },
    generation: () => generation,
    stop() {
      stopped = true;
      for (const resolve of roundWaiters.splice(0)) resolve({ generation, pushes: [] });
      clearTimeout(timer);
      clearTimeout(graceTimer);
      timer = undefined;
    },
  };
}

type EncodedSnapshot = { ok: true; body: Buffer; hash: string } | { ok: false; errors: string[] };

function encodeSnapshot(snapshot: Snapshot): EncodedSnapshot {
  const check = checkSnapshot(snapshot);
  if (!check.ok) return check;
  // The builder's output is deterministic (sorted, built in a fixed order), so plain JSON hashes equal snapshots
  // equally at a fraction of canonicalJson's cost; a difference in key order alone would only cost a redundant push.
  const body = Buffer.from(JSON.stringify(snapshot));
  return { ok: true, body, hash: createHash("sha256").update(body).digest("hex") };
}

/**
 * The NDJSON line of one config push, byte for byte what encodeLine({ type: "config", version, nonce, snapshot })
 * writes, around a snapshot serialised once for every sidecar that gets it. A Buffer, so that a round's hundreds of
 * lines are copies of one encoding outside the JS heap rather than strings the heap has to collect.
 */
export function encodeConfigLine(version: number, nonce: string, snapshotJson: Buffer): Buffer {
  const head = `{"type":"config","version":${version},"nonce":${JSON.stringify(nonce)},"snapshot":`;
  const headBytes = Buffer.byteLength(head);
  const line = Buffer.allocUnsafe(headBytes + snapshotJson.length + 2);
  line.write(head, 0);
  snapshotJson.copy(line, headBytes);
  line.write("}\n", headBytes + snapshotJson.length);
  return line;
}

export function toRegisteredWorkload(node: NodeInfo): RegisteredWorkload {
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
