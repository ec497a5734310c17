// Connection pools per cluster (Envoy's cluster connection pool), on the sidecar's own HTTP/1.1 client
// (http1/client.ts): keep-alive connections per endpoint, most recently used first, the DestinationRule's connection
// limit shared by all endpoints of the cluster, requests waiting for a connection at the limit (pending, for the
// breakers), a per-connection request limit, an idle timeout, and mTLS origination through `upstreamTls` with new
// connections once the certificate rotates. Pools live outside the snapshot, so they survive config swaps as long as
// the cluster exists.
import type { ConnectionOptions } from "node:tls";
import { UpstreamConnection } from "../http1/client.ts";
import { UpstreamRequest, type UpstreamRequestOptions } from "../http1/upstream-messages.ts";
import type { ForwardTarget } from "../proxy/forward.ts";

/** TLS options to originate mTLS to a cluster with (supplied by the identity work), or null for plaintext. */
export type UpstreamTls = (clusterName: string) => { generation: number; options: ConnectionOptions } | null;

export type PoolLimits = { maxConnections: number | undefined; maxRequestsPerConnection: number | undefined; idleTimeoutMs: number | undefined };

/** Where a request stands in the pool when it is issued: a connection for it at once, or a wait for one. */
export type Admission = "ready" | "pending";

export type ClusterPool = {
  /** Whether a request to `target` would get a connection at once (an idle one, or a new one within the limit). */
  admission: (target: ForwardTarget) => Admission;
  /** Issues a request: on an idle connection to its endpoint, a new one within the limit, or after a wait for one. */
  request: (options: UpstreamRequestOptions) => UpstreamRequest;
  /** Whether requests go out over mTLS now. */
  secure: () => boolean;
  connections: () => number;
  idleConnections: () => number;
  pending: () => number;
  /** Applies a (possibly changed) limit set; connections made under other limits are not reused. */
  configure: (limits: PoolLimits) => void;
  close: () => void;
};

type Waiter = { key: string; request: UpstreamRequest; target: ForwardTarget };

export function createClusterPool(clusterName: string, upstreamTls: UpstreamTls, initial: PoolLimits): ClusterPool {
  let limits = initial;
  /** Bumped when the certificate or the limits change: connections of an older generation are not reused. */
  let generation = 0;
  let tlsKey = "";
  let tlsOptions: ConnectionOptions | null = null;
  const all = new Set<UpstreamConnection>();
  /** Idle connections per endpoint ("host:port"), the most recently used last. */
  const idle = new Map<string, UpstreamConnection[]>();
  let idleCount = 0;
  const waiting: Waiter[] = [];
  /** TLS sessions per endpoint, so a new connection resumes instead of a full handshake. */
  const sessions = new Map<string, Buffer>();
  let closing = false;

  const refresh = () => {
    const tls = upstreamTls(clusterName);
    const key = tls === null ? "plain" : `tls${tls.generation}`;
    if (key === tlsKey) return;
    tlsKey = key;
    tlsOptions = tls?.options ?? null;
    sessions.clear();
    retireAll();
  };
  const retireAll = () => {
    generation += 1;
    // Idle connections of the old generation go now; busy ones close when their exchange ends.
    for (const list of idle.values()) for (const connection of [...list]) closeIdle(connection);
  };

  const takeIdle = (key: string): UpstreamConnection | null => {
    const list = idle.get(key);
    for (let connection = list?.pop(); connection !== undefined; connection = list?.pop()) {
      idleCount -= 1;
      clearTimeout(connection.idleTimer);
      if (!connection.socket.destroyed) return connection;
    }
    return null;
  };
  /** Closes an idle connection now, out of the idle list at once (its 'close' event comes later). */
  const closeIdle = (connection: UpstreamConnection) => {
    removeIdle(connection);
    connection.socket.destroy();
  };
  const removeIdle = (connection: UpstreamConnection) => {
    const list = idle.get(connection.key);
    const at = list?.indexOf(connection) ?? -1;
    if (list !== undefined && at !== -1) {
      list.splice(at, 1);
      idleCount -= 1;
    }
  };

  const events = {
    onFree(connection: UpstreamConnection) {
      const perConnection = limits.maxRequestsPerConnection;
      if (closing || connection.generation !== generation || (perConnection !== undefined && connection.served >= perConnection)) {
        connection.socket.destroy();
        return;
      }
      // A request waiting for this endpoint gets the connection; one waiting for another endpoint gets its slot.
      const same = waiting.findIndex((w) => w.key === connection.key);
      if (same !== -1) {
        const [waiter] = waiting.splice(same, 1);
        assign((waiter as Waiter).request, connection);
        return;
      }
      if (waiting.length > 0) {
        connection.socket.destroy(); // onClose opens one for the first waiter
        return;
      }
      let list = idle.get(connection.key);
      if (list === undefined) idle.set(connection.key, (list = []));
      list.push(connection);
      idleCount += 1;
      const idleMs = limits.idleTimeoutMs;
      if (idleMs !== undefined && idleMs > 0) connection.idleTimer = setTimeout(() => closeIdle(connection), idleMs);
    },
    onClose(connection: UpstreamConnection) {
      all.delete(connection);
      clearTimeout(connection.idleTimer);
      removeIdle(connection);
      // A freed slot goes to the first request waiting for one.
      const waiter = waiting[0];
      if (waiter !== undefined && !closing && underLimit()) {
        waiting.shift();
        open(waiter.key, waiter.target, waiter.request);
      }
    },
  };

  const underLimit = () => limits.maxConnections === undefined || all.size < limits.maxConnections;

  const assign = (request: UpstreamRequest, connection: UpstreamConnection) => {
    request.onAbandon = null;
    // Envoy's max_requests_per_connection: the connection says close with its last request instead of going back.
    const perConnection = limits.maxRequestsPerConnection;
    if (perConnection !== undefined && connection.served + 1 >= perConnection) request.shouldKeepAlive = false;
    request.assign(connection);
  };

  const open = (key: string, target: ForwardTarget, request: UpstreamRequest) => {
    const options = tlsOptions === null ? null : { ...tlsOptions, session: sessions.get(key) };
    const connection = UpstreamConnection.open(key, generation, target, options, events, () => {
      if (request.destroyed) return;
      request.connected = true;
      request.emit("connect");
    });
    if (options !== null) connection.socket.on("session", (session: Buffer) => sessions.set(key, session));
    all.add(connection);
    request.connecting = true;
    assign(request, connection);
    request.emit("connecting");
  };

  /** At the limit, an idle connection to another endpoint gives its slot to a request waiting (Envoy's pool would). */
  const evictIdleElsewhere = (key: string) => {
    for (const [other, list] of idle) {
      if (other === key) continue;
      const connection = list[list.length - 1];
      if (connection !== undefined) {
        closeIdle(connection);
        return;
      }
    }
  };

  refresh();
  return {
    admission(target) {
      if (underLimit()) return "ready";
      return (idle.get(`${target.host}:${target.port}`)?.length ?? 0) > 0 ? "ready" : "pending";
    },
    request(options) {
      refresh();
      const request = new UpstreamRequest(options);
      const key = `${options.host}:${options.port}`;
      const target = { host: options.host, port: options.port };
      const reused = takeIdle(key);
      if (reused !== null) {
        assign(request, reused);
        return request;
      }
      if (underLimit()) {
        open(key, target, request);
        return request;
      }
      const waiter: Waiter = { key, request, target };
      waiting.push(waiter);
      request.onAbandon = () => {
        const at = waiting.indexOf(waiter);
        if (at !== -1) waiting.splice(at, 1);
      };
      evictIdleElsewhere(key);
      return request;
    },
    secure: () => {
      refresh();
      return tlsOptions !== null;
    },
    connections: () => all.size,
    idleConnections: () => idleCount,
    pending: () => waiting.length,
    configure(next) {
      const changed = next.maxConnections !== limits.maxConnections || next.idleTimeoutMs !== limits.idleTimeoutMs;
      // A new per-connection limit counts from when it applies.
      if (next.maxRequestsPerConnection !== limits.maxRequestsPerConnection) for (const connection of all) connection.served = 0;
      limits = next;
      if (changed) retireAll();
    },
    close() {
      closing = true;
      for (const connection of all) connection.socket.destroy();
      for (const waiter of waiting.splice(0)) waiter.request.fail(Object.assign(new Error("connection pool closed"), { code: "ECONNRESET" }));
    },
  };
}
