// Connection pools per cluster (Envoy's cluster connection pool): one keep-alive agent per cluster with the
// DestinationRule's connection limit, its connection / pending / idle accounting for circuit breaking, mTLS
// origination through `upstreamTls`, and a fresh agent when the certificate rotates. Pools live outside the
// snapshot, so they survive config swaps as long as the cluster exists.
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type { ForwardTarget } from "../proxy/forward.ts";

/** TLS options to originate mTLS to a cluster with (supplied by the identity work), or null for plaintext. */
export type UpstreamTls = (clusterName: string) => { generation: number; options: ConnectionOptions } | null;

export type PoolLimits = { maxConnections: number | undefined; maxRequestsPerConnection: number | undefined; idleTimeoutMs: number | undefined };

/** Where a request stands in the pool when it is issued: a connection for it at once, or a wait for one. */
export type Admission = "ready" | "pending";

export type ClusterPool = {
  /** Whether a request to `target` would get a connection at once (an idle one, or a new one within the limit). */
  admission: (target: ForwardTarget) => Admission;
  /**
   * Issues a request on the current agent; `pending` marks it as waiting for a connection until it gets one.
   * `options` is the caller's per-request object and gets the agent set on it.
   */
  request: (options: http.RequestOptions, pending: boolean) => http.ClientRequest;
  /** Whether requests go out over mTLS now. */
  secure: () => boolean;
  connections: () => number;
  idleConnections: () => number;
  pending: () => number;
  /** Applies a (possibly changed) limit set: a new agent when it differs; the old one retires once idle. */
  configure: (limits: PoolLimits) => void;
  close: () => void;
};

type Generation = { agent: http.Agent; secure: boolean; key: string; inFlight: number; retired: boolean };

/**
 * At the connection limit, Node's agent queues a request for one endpoint while another endpoint's connections sit
 * idle, until one of them closes. Closing one idle connection elsewhere hands its slot to the queued request (the
 * agent opens a connection for a waiting origin when a socket is removed), as Envoy's pool would.
 */
function evictIdleElsewhere(agent: http.Agent, { host, port }: http.RequestOptions): void {
  const prefix = `${String(host)}:${String(port)}:`;
  const free = agent.freeSockets;
  for (const name in free) {
    if (name.startsWith(prefix)) continue;
    const idle = free[name]?.[0];
    if (idle !== undefined) {
      idle.destroy();
      return;
    }
  }
}

export function createClusterPool(clusterName: string, upstreamTls: UpstreamTls, initial: PoolLimits): ClusterPool {
  let limits = initial;
  let connections = 0;
  let pending = 0;
  const retired = new Set<Generation>();
  const requestsOnSocket = new WeakMap<Socket, number>();

  const build = (key: string, tls: ReturnType<UpstreamTls>): Generation => {
    // noDelay: heads and bodies go out as whole writes already; Nagle would only hold the next one back.
    const options: http.AgentOptions = { keepAlive: true, scheduling: "lifo", noDelay: true };
    if (limits.maxConnections !== undefined) options.maxTotalSockets = limits.maxConnections;
    if (limits.idleTimeoutMs !== undefined && limits.idleTimeoutMs > 0) options.timeout = limits.idleTimeoutMs;
    const agent = tls === null ? new http.Agent(options) : new https.Agent({ ...options, ...tls.options });
    const create = agent.createConnection.bind(agent);
    // Counting sockets as the agent makes them is the only exact connection count (Envoy's upstream_cx_active).
    agent.createConnection = (connectOptions, callback) => {
      const socket = create(connectOptions, callback);
      if (socket === null || socket === undefined) return socket;
      connections += 1;
      socket.once("close", () => (connections -= 1));
      return socket;
    };
    return { agent, secure: tls !== null, key, inFlight: 0, retired: false };
  };

  const keyOf = (tls: ReturnType<UpstreamTls>) => `${tls === null ? "plain" : `tls${tls.generation}`}|${limits.maxConnections ?? ""}|${limits.idleTimeoutMs ?? ""}`;
  let current = build(keyOf(upstreamTls(clusterName)), upstreamTls(clusterName));

  const retire = (generation: Generation) => {
    generation.retired = true;
    if (generation.inFlight === 0) generation.agent.destroy();
    else retired.add(generation);
  };

  /** The agent for a new request: rebuilt when the certificate generation (or the limits) changed. */
  const refresh = () => {
    const tls = upstreamTls(clusterName);
    const key = keyOf(tls);
    if (key === current.key) return current;
    retire(current);
    current = build(key, tls);
    return current;
  };

  return {
    admission(target) {
      const max = limits.maxConnections;
      if (max === undefined || connections < max) return "ready";
      const prefix = `${target.host}:${target.port}:`;
      const free = current.agent.freeSockets;
      for (const name in free) if (name.startsWith(prefix) && (free[name]?.length ?? 0) > 0) return "ready";
      return "pending";
    },
    request(options, isPending) {
      const generation = refresh();
      generation.inFlight += 1;
      if (isPending) pending += 1;
      let waiting = isPending;
      const stopWaiting = () => {
        if (!waiting) return;
        waiting = false;
        pending -= 1;
      };
      options.agent = generation.agent; // the caller's own options object (see the type): no copy per request
      const req = (generation.secure ? https : http).request(options);
      if (isPending) evictIdleElsewhere(generation.agent, options);
      // Only a request waiting for a connection, or a per-connection request limit, needs to see its socket.
      if (isPending || limits.maxRequestsPerConnection !== undefined) req.on("socket", (socket) => {
        stopWaiting();
        const perConnection = limits.maxRequestsPerConnection;
        if (perConnection === undefined) return;
        const served = (requestsOnSocket.get(socket) ?? 0) + 1;
        requestsOnSocket.set(socket, served);
        // Envoy's max_requests_per_connection: the connection closes after this response instead of going back.
        if (served >= perConnection) req.shouldKeepAlive = false;
      });
      req.once("close", () => {
        stopWaiting();
        generation.inFlight -= 1;
        if (generation.retired && generation.inFlight === 0) {
          retired.delete(generation);
          // Old certificate: in-flight requests finished on it; its idle connections go now.
          generation.agent.destroy();
        }
      });
      return req;
    },
    secure: () => current.secure,
    connections: () => connections,
    idleConnections() {
      let idle = 0;
      const free = current.agent.freeSockets;
      for (const name in free) idle += free[name]?.length ?? 0;
      return idle;
    },
    pending: () => pending,
    configure(next) {
      const changed = next.maxConnections !== limits.maxConnections || next.idleTimeoutMs !== limits.idleTimeoutMs;
      limits = next;
      if (changed) {
        retire(current);
        current = build(keyOf(upstreamTls(clusterName)), upstreamTls(clusterName));
      }
    },
    close() {
      current.agent.destroy();
      for (const generation of retired) generation.agent.destroy();
      retired.clear();
    },
  };
}
