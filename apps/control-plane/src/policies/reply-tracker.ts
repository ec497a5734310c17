// Waits for the sidecars a push went to to answer it, so an apply can report per sidecar whether its config is
// running (ACK), refused (NACK, with the sidecar's error), or never answered. A reply to a newer push answers an
// older one too: the newer snapshot includes the older change.
import type { PushRecord } from "../push.ts";
import type { Connection, Registry } from "../registry.ts";

export type ReplyStatus = "acked" | "nacked" | "disconnected" | "timeout";

export type SidecarReplyStatus = {
  id: string;
  service: string;
  namespace: string;
  /** The workload's version label (v1, v2...). */
  version: string;
  /** The config version that was pushed to it. */
  configVersion: number;
  status: ReplyStatus;
  error: string | null;
};

export type ReplyTracker = {
  /** Resolves once every push is answered, its sidecar disconnected, or timeoutMs passed. */
  waitForReplies: (pushes: readonly PushRecord[], timeoutMs: number) => Promise<SidecarReplyStatus[]>;
};

type Waiter = { push: PushRecord; settle: (status: ReplyStatus, error: string | null) => void };

export function createReplyTracker(registry: Registry): ReplyTracker {
  const waiting = new Map<Connection, Set<Waiter>>();

  const settleAll = (connection: Connection, status: ReplyStatus, error: string | null) => {
    const waiters = waiting.get(connection);
    if (!waiters) return;
    waiting.delete(connection);
    for (const waiter of waiters) waiter.settle(status, error);
  };

  registry.onReply((connection, reply) => settleAll(connection, reply.type === "ack" ? "acked" : "nacked", reply.type === "nack" ? reply.error : null));
  registry.onChange(() => {
    if (waiting.size === 0) return;
    const live = new Set(registry.connections());
    for (const connection of [...waiting.keys()]) if (!live.has(connection)) settleAll(connection, "disconnected", null);
  });

  return {
    async waitForReplies(pushes, timeoutMs) {
      const live = new Set(registry.connections());
      const waiters: Waiter[] = [];
      const outcomes = pushes.map(
        (push) =>
          new Promise<SidecarReplyStatus>((resolve) => {
            const { node } = push.connection;
            const settle = (status: ReplyStatus, error: string | null) =>
              resolve({ id: node.id, service: node.service, namespace: node.namespace, version: node.version, configVersion: push.version, status, error });
            const acked = push.connection.ackedVersion;
            if (acked !== null && acked >= push.version) return settle("acked", null);
            if (!live.has(push.connection)) return settle("disconnected", null);
            const waiter = { push, settle };
            waiters.push(waiter);
            const set = waiting.get(push.connection) ?? new Set<Waiter>();
            set.add(waiter);
            waiting.set(push.connection, set);
          }),
      );
      const timer = setTimeout(() => {
        for (const waiter of waiters) {
          const set = waiting.get(waiter.push.connection);
          set?.delete(waiter);
          if (set?.size === 0) waiting.delete(waiter.push.connection);
          waiter.settle("timeout", null);
        }
      }, timeoutMs);
      try {
        return await Promise.all(outcomes);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
