// Who is in the mesh right now (in memory, authoritative for pushes) and the durable record of it (Postgres, read
// by REST, the CLI and the dashboard, written in batches by registry-writes.ts so rows never move backwards). A
// workload whose stream closes stays an endpoint for a grace period, so a sidecar that reconnects (a blip, a
// control-plane hand-off) does not make its callers drop and re-add it.
import type { Database } from "@trellis/db";
import type { NodeInfo, SidecarReply } from "@trellis/mesh-config";
import { createRegistryWrites, type WorkloadState } from "./registry-writes.ts";

/** TRELLIS_DISCONNECT_GRACE's default. */
export const DEFAULT_DISCONNECT_GRACE_MS = 10_000;

/** The control plane's side of one sidecar's config stream. */
export type Connection = {
  node: NodeInfo;
  /** Writes one encoded NDJSON line (a config push) to the stream. */
  send: (line: Buffer) => void;
  /** Ends the stream, e.g. when the same workload connects again elsewhere. */
  close: () => void;
  /** The last push, compared by hash to decide whether the next one changes anything. */
  pushed: { version: number; nonce: string; hash: string } | null;
  ackedVersion: number | null;
  lastError: string | null;
};

export type Sink = Pick<Connection, "send" | "close">;

export type Registry = {
  /**
   * Restores the mesh-wide generation (highest version ever pushed), notes which sidecars were connected when the
   * previous run ended (they are about to reconnect), and marks the previous run's rows disconnected.
   */
  start: () => Promise<{ generation: number; previouslyConnected: string[] }>;
  connect: (node: NodeInfo, sink: Sink) => Connection;
  disconnect: (connection: Connection) => void;
  recordPush: (connection: Connection, push: { version: number; nonce: string; hash: string }) => void;
  recordReply: (connection: Connection, reply: SidecarReply) => "applied" | "stale";
  /** Sidecars with an open config stream: whom a push goes to. */
  connections: () => Connection[];
  /** Every workload that is an endpoint: connected, or disconnected for less than the grace period. */
  workloads: () => NodeInfo[];
  /** Called after every change of who is connected or in the mesh; the push loop debounces it. */
  onChange: (listener: () => void) => void;
  /** Called for every ACK or NACK that answers a connection's latest push (stale replies are not reported). */
  onReply: (listener: (connection: Connection, reply: SidecarReply) => void) => void;
  /**
   * The control plane is stopping: streams that close from now on were closed by us and their sidecars are still
   * alive, so their rows stay connected, which tells the next run whom to wait for (see push.ts).
   */
  beginShutdown: () => void;
  /** Writes the queued row changes now; resolves when they have reached the database. */
  flush: () => Promise<void>;
};

export function createRegistry({
  db,
  log = console,
  disconnectGraceMs = DEFAULT_DISCONNECT_GRACE_MS,
}: {
  db: Database;
  log?: Pick<Console, "info" | "error">;
  /** How long a disconnected workload stays an endpoint; 0 removes it at once. */
  disconnectGraceMs?: number;
}): Registry {
  const live = new Map<string, Connection>();
  const departed = new Map<string, { node: NodeInfo; timer: NodeJS.Timeout }>();
  const listeners: Array<() => void> = [];
  const replyListeners: Array<(connection: Connection, reply: SidecarReply) => void> = [];
  const writes = createRegistryWrites({ pool: db.pool, log });
  let shuttingDown = false;

  const changed = () => {
    for (const listener of listeners) listener();
  };
  // Only the workload's current stream speaks for its row: a replaced stream's late messages change nothing.
  const persistState = (connection: Connection) => {
    if (live.get(connection.node.id) === connection) writes.update(connection.node.id, stateOf(connection, true));
  };
  const expire = (id: string) => {
    departed.delete(id);
    log.info(`control-plane: ${id} removed from the mesh after ${disconnectGraceMs} ms disconnected`);
    changed();
  };

  return {
    async start() {
      const previous = await db.prisma.workload.findMany({ where: { connected: true }, select: { id: true } });
      await db.prisma.workload.updateMany({ where: { connected: true }, data: { connected: false } });
      const { _max } = await db.prisma.workload.aggregate({ _max: { configVersion: true } });
      return { generation: _max.configVersion ?? 0, previouslyConnected: previous.map((row) => row.id) };
    },

    connect(node, sink) {
      const previous = live.get(node.id);
      const leaving = departed.get(node.id);
      if (leaving !== undefined) {
        // Back within the grace period: it never stopped being an endpoint, so callers see no flap.
        clearTimeout(leaving.timer);
        departed.delete(node.id);
      }
      const connection: Connection = { node, ...sink, pushed: null, ackedVersion: null, lastError: null };
      live.set(node.id, connection);
      // The same workload id reconnecting (before we noticed its old stream drop) replaces the old stream.
      previous?.close();
      writes.register(node, new Date());
      changed();
      return connection;
    },

    disconnect(connection) {
      const { id } = connection.node;
      if (live.get(id) !== connection) return; // already replaced by a newer stream
      live.delete(id);
      if (!shuttingDown) {
        writes.update(id, stateOf(connection, false));
        if (disconnectGraceMs > 0) {
          const timer = setTimeout(() => expire(id), disconnectGraceMs);
          timer.unref();
          departed.set(id, { node: connection.node, timer });
        }
      }
      changed();
    },

    recordPush(connection, push) {
      connection.pushed = push;
      persistState(connection);
    },

    recordReply(connection, reply) {
      // As in xDS, a reply is about the push named by its nonce; one for an older push is stale and changes nothing.
      if (connection.pushed === null || reply.nonce !== connection.pushed.nonce) return "stale";
      if (reply.type === "ack") connection.ackedVersion = reply.version;
      connection.lastError = reply.type === "nack" ? reply.error : null;
      persistState(connection);
      for (const listener of replyListeners) listener(connection, reply);
      return "applied";
    },

    connections: () => [...live.values()],
    workloads: () => [...[...live.values()].map((connection) => connection.node), ...[...departed.values()].map((entry) => entry.node)],
    onChange: (listener) => void listeners.push(listener),
    onReply: (listener) => void replyListeners.push(listener),
    beginShutdown() {
      shuttingDown = true;
      for (const { timer } of departed.values()) clearTimeout(timer);
      writes.stop();
    },
    flush: () => writes.flush(),
  };
}

function stateOf(connection: Connection, connected: boolean): WorkloadState {
  return {
    configVersion: connection.pushed?.version ?? null,
    ackedVersion: connection.ackedVersion,
    lastError: connection.lastError,
    connected,
    lastSeenAt: new Date(),
  };
}
