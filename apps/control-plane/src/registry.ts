// Who is connected right now (in memory, authoritative for pushes) and the durable record of it (Postgres, read
// by REST, the CLI and the dashboard). Writes go through one queue so rows never move backwards in time.
import type { Database } from "@trellis/db";
import type { ConfigMessage, NodeInfo, SidecarReply } from "@trellis/mesh-config";

/** The control plane's side of one sidecar's config stream. */
export type Connection = {
  node: NodeInfo;
  /** Writes one config push to the stream. */
  send: (message: ConfigMessage) => void;
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
  connections: () => Connection[];
  /** Called after every change of who is connected; the push loop debounces it. */
  onChange: (listener: () => void) => void;
  /** Called for every ACK or NACK that answers a connection's latest push (stale replies are not reported). */
  onReply: (listener: (connection: Connection, reply: SidecarReply) => void) => void;
  /**
   * The control plane is stopping: streams that close from now on were closed by us and their sidecars are still
   * alive, so their rows stay connected, which tells the next run whom to wait for (see push.ts).
   */
  beginShutdown: () => void;
  /** Resolves when every queued write has reached the database. */
  flush: () => Promise<void>;
};

export function createRegistry({ db, log = console }: { db: Database; log?: Pick<Console, "error"> }): Registry {
  const live = new Map<string, Connection>();
  const listeners: Array<() => void> = [];
  const replyListeners: Array<(connection: Connection, reply: SidecarReply) => void> = [];
  let queue: Promise<void> = Promise.resolve();
  let shuttingDown = false;

  const persist = (what: string, write: () => Promise<unknown>) => {
    queue = queue.then(write).then(
      () => undefined,
      (error: unknown) => log.error(`control-plane: could not persist ${what}: ${(error as Error).message}`),
    );
  };
  const changed = () => {
    for (const listener of listeners) listener();
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
      const connection: Connection = { node, ...sink, pushed: null, ackedVersion: null, lastError: null };
      live.set(node.id, connection);
      // The same workload id reconnecting (before we noticed its old stream drop) replaces the old stream.
      previous?.close();
      persist(`registration of ${node.id}`, () => upsertWorkload(db, node));
      changed();
      return connection;
    },

    disconnect(connection) {
      if (live.get(connection.node.id) !== connection) return; // already replaced by a newer stream
      live.delete(connection.node.id);
      if (!shuttingDown) {
        persist(`disconnect of ${connection.node.id}`, () =>
          db.prisma.workload.update({ where: { id: connection.node.id }, data: { connected: false, lastSeenAt: new Date() } }),
        );
      }
      changed();
    },

    recordPush(connection, push) {
      connection.pushed = push;
      persist(`push of version ${push.version} to ${connection.node.id}`, () =>
        db.prisma.workload.update({ where: { id: connection.node.id }, data: { configVersion: push.version, lastSeenAt: new Date() } }),
      );
    },

    recordReply(connection, reply) {
      // As in xDS, a reply is about the push named by its nonce; one for an older push is stale and changes nothing.
      if (connection.pushed === null || reply.nonce !== connection.pushed.nonce) return "stale";
      const data =
        reply.type === "ack"
          ? { ackedVersion: reply.version, lastError: null, lastSeenAt: new Date() }
          : { lastError: reply.error, lastSeenAt: new Date() };
      if (reply.type === "ack") connection.ackedVersion = reply.version;
      connection.lastError = reply.type === "nack" ? reply.error : null;
      persist(`${reply.type} of version ${reply.version} from ${connection.node.id}`, () =>
        db.prisma.workload.update({ where: { id: connection.node.id }, data }),
      );
      for (const listener of replyListeners) listener(connection, reply);
      return "applied";
    },

    connections: () => [...live.values()],
    onChange: (listener) => void listeners.push(listener),
    onReply: (listener) => void replyListeners.push(listener),
    beginShutdown: () => void (shuttingDown = true),
    flush: () => queue,
  };
}

async function upsertWorkload(db: Database, node: NodeInfo): Promise<void> {
  const now = new Date();
  const service = await db.prisma.service.upsert({
    where: { namespace_name: { namespace: node.namespace, name: node.service } },
    create: { namespace: node.namespace, name: node.service },
    update: {},
    select: { id: true },
  });
  const fields = {
    serviceId: service.id,
    version: node.version,
    labels: node.labels,
    mode: node.mode,
    address: node.address,
    inboundUrl: node.inboundUrl,
    adminUrl: node.adminUrl,
    connected: true,
    lastError: null,
    lastSeenAt: now,
  };
  // A re-registration starts a new session: its ACK state starts over (a restarted sidecar runs nothing yet).
  // config_version is kept because the generation counter is restored from its maximum.
  await db.prisma.workload.upsert({
    where: { id: node.id },
    create: { id: node.id, ...fields, registeredAt: now },
    update: { ...fields, ackedVersion: null, registeredAt: now },
  });
}
