// Graceful drain of the sidecar's listeners (SIGTERM): stop accepting, tell every kept-alive client to go elsewhere
// with `Connection: close` on its next response (closing idle sockets silently invites the reuse race), let in-flight
// requests finish within a bound, then cut what is left. Costs nothing per request until the drain starts.
import type http from "node:http";
import type { Socket } from "node:net";

/** A listener the drain can reach: HTTP/1.1 servers (plain or TLS) and anything else that can stop accepting. */
export type DrainableServer = http.Server;

export type DrainTracker = {
  /** Wraps a listener's request handler so requests arriving while draining answer with `Connection: close`. */
  wrap: (handler: http.RequestListener) => http.RequestListener;
  /** Remembers the server's sockets (per connection, not per request) to reach the responses in flight. */
  track: (server: DrainableServer) => void;
  isDraining: () => boolean;
  /** Stops every tracked server; resolves once all of them closed, within `timeoutMs` (then connections are cut). */
  drain: (timeoutMs: number) => Promise<void>;
};

const IDLE_SWEEP_MS = 50;

export function createDrainTracker(): DrainTracker {
  let draining = false;
  const servers: Array<{ server: DrainableServer; sockets: Set<Socket> }> = [];
  return {
    wrap: (handler) => (req, res) => {
      if (draining) res.shouldKeepAlive = false;
      handler(req, res);
    },
    track: (server) => {
      const sockets = new Set<Socket>();
      server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
      });
      // A TLS listener hands its HTTP layer the TLS socket, not the raw one.
      server.on("secureConnection", (socket: Socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
      });
      servers.push({ server, sockets });
    },
    isDraining: () => draining,
    drain: async (timeoutMs) => {
      draining = true;
      await Promise.all(servers.map(({ server, sockets }) => drainServer(server, sockets, timeoutMs)));
    },
  };
}

function drainServer(server: DrainableServer, sockets: Set<Socket>, timeoutMs: number): Promise<void> {
  for (const socket of sockets) closeAfterCurrentResponse(socket);
  // An HTTP layer fed connections by another listener (the inbound's, transport/listener.ts) never listens itself:
  // its owner stops accepting and sweeps idle connections; the responses in flight are marked above.
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    // Sockets whose response finished before its headers could be changed go idle; close those as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * The response in flight on a kept-alive socket answers `Connection: close` and the socket closes after it, so the
 * client opens its next connection elsewhere instead of racing our close. Node keeps the socket's current response
 * in `_httpMessage` (stable since Node 0.x; there is no public way from socket to response).
 */
function closeAfterCurrentResponse(socket: Socket): void {
  const current = (socket as Socket & { _httpMessage?: unknown })._httpMessage;
  if (isServerResponse(current) && !current.headersSent) current.shouldKeepAlive = false;
}

function isServerResponse(value: unknown): value is http.ServerResponse {
  return typeof value === "object" && value !== null && "shouldKeepAlive" in value && "headersSent" in value && "req" in value;
}
