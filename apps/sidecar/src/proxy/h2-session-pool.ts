// One multiplexed HTTP/2 client session per destination (a peer sidecar, or the local app), reused by every
// request to it and replaced once it closes, errors or receives GOAWAY: HTTP/2 needs no pool of connections.
import http2 from "node:http2";
import type { UpstreamTlsProvider as UpstreamTls } from "../transport/upstream-tls.ts";
import type { ForwardTarget } from "./forward.ts";

/** As the HTTP/1.1 listeners' keep-alive timeout. */
const IDLE_TIMEOUT_MS = 60_000;

export type H2SessionPool = {
  /**
   * The live session to `target` (h2 over TLS with ALPN h2 when `tls` is given, h2c otherwise), connecting if needed.
   * A new certificate generation gets a new session; the old one finishes its streams and idles out.
   */
  session: (target: ForwardTarget, tls: UpstreamTlsOptions | null) => http2.ClientHttp2Session;
  /** Closes every session gracefully (GOAWAY, in-flight streams finish). */
  close: () => void;
};

export type UpstreamTlsOptions = NonNullable<ReturnType<UpstreamTls>>;

export function createH2SessionPool(): H2SessionPool {
  const sessions = new Map<string, http2.ClientHttp2Session>();

  const connect = (key: string, target: ForwardTarget, tls: UpstreamTlsOptions | null) => {
    const session =
      tls === null
        ? http2.connect(`http://${target.host}:${target.port}`)
        : http2.connect(`https://${target.host}:${target.port}`, { ...tls.options, ALPNProtocols: ["h2"] });
    const forget = () => {
      if (sessions.get(key) === session) sessions.delete(key);
    };
    // Stream errors are reported on the streams; a session error only means the next request needs a new session.
    session.on("error", forget);
    session.on("goaway", forget);
    session.on("close", forget);
    // An idle session is closed (gracefully) rather than kept forever to an endpoint that may be gone.
    session.setTimeout(IDLE_TIMEOUT_MS, () => session.close());
    sessions.set(key, session);
    return session;
  };

  return {
    session(target, tls) {
      const key = `${tls === null ? "h2c" : `h2#${tls.generation}`}://${target.host}:${target.port}`;
      const current = sessions.get(key);
      if (current !== undefined && !current.closed && !current.destroyed) return current;
      return connect(key, target, tls);
    },
    close() {
      for (const session of sessions.values()) session.close();
      sessions.clear();
    },
  };
}
