// One outbound listener's request path, layer by layer: logical (route → cluster), concrete (cluster →
// endpoint), endpoint (connection). A gateway runs the same path behind a SERVER span of its own.
import type http from "node:http";
import type { Snapshot } from "@trellis/mesh-config";
import { forwardToEndpoint } from "./endpoint.ts";
import { resolveRoute } from "./logical.ts";
import type { Balancer } from "./concrete.ts";
import { sendLocalReply, waitForExchange, type ExchangeOutcome } from "../proxy/forward.ts";
import { localReply } from "../response-flags.ts";
import { hostOf, pathOf } from "../proxy/request-info.ts";
import { contextWithSpan, type Telemetry } from "../telemetry.ts";

export type OutboundDeps = {
  /** The service this listener sends to. */
  upstream: string;
  /** The config in force; read once per request so a push never changes a request half-way. */
  currentSnapshot: () => Snapshot | null;
  balancer: Balancer;
  telemetry: Telemetry;
  agent: http.Agent;
  /** Gateway mode: the incoming request gets a SERVER span, and the CLIENT span is its child. */
  serverSpan: boolean;
};

export function createOutboundHandler(deps: OutboundDeps): http.RequestListener {
  const { upstream, currentSnapshot, balancer, telemetry, agent, serverSpan } = deps;
  return (req, res) => {
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    let parent = telemetry.extract(req.headers);
    const server = serverSpan
      ? telemetry.startHttpSpan({ kind: "server", method, path, serverAddress: hostOf(req), serverPort: req.socket.localPort, parent })
      : null;
    if (server) parent = contextWithSpan(parent, server);
    const client = telemetry.startHttpSpan({ kind: "client", method, path, serverAddress: upstream, upstreamService: upstream, parent });

    const outcome = route();
    void outcome.then((end) => {
      telemetry.endHttpSpan(client, end);
      if (server) telemetry.endHttpSpan(server, end);
    });

    function route(): Promise<ExchangeOutcome> {
      const snapshot = currentSnapshot();
      const logical = resolveRoute(snapshot, upstream);
      if (!logical.ok || snapshot === null) {
        const reply = localReply("NR", logical.ok ? `no config for "${upstream}"` : logical.reason);
        sendLocalReply(res, reply);
        return waitForExchange(res, reply.flag);
      }
      const concrete = balancer.pick(snapshot, logical.cluster);
      if (!concrete.ok) {
        const reply = localReply("UH", concrete.reason);
        sendLocalReply(res, reply);
        return waitForExchange(res, reply.flag);
      }
      return forwardToEndpoint({ req, res, endpoint: concrete.endpoint, clientSpan: client, parent, telemetry, agent });
    }
  };
}
