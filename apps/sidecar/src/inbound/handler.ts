// Inbound: requests from other sidecars (or anyone on loopback) to this sidecar's mesh port, forwarded to the
// local app. Kept apart from outbound: it is where mTLS termination and authorization policy go later.
import type http from "node:http";
import { forwardRequest } from "../proxy/forward.ts";
import { toUpstreamHeaders } from "../proxy/headers.ts";
import { hostOf, pathOf } from "../proxy/request-info.ts";
import { contextWithSpan, type Telemetry } from "../telemetry/index.ts";

export type InboundDeps = { appPort: number; telemetry: Telemetry; agent: http.Agent };

export function createInboundHandler({ appPort, telemetry, agent }: InboundDeps): http.RequestListener {
  const target = { host: "127.0.0.1", port: appPort };
  return (req, res) => {
    const parent = telemetry.extract(req.headers);
    const span = telemetry.startHttpSpan({
      kind: "server",
      method: req.method ?? "GET",
      path: pathOf(req.url),
      serverAddress: hostOf(req),
      serverPort: req.socket.localPort,
      parent,
    });
    const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress });
    // The app sees this SERVER span as its parent (as behind Envoy), so calls it makes while handling the request,
    // when it copies traceparent onto them, nest under this hop in the trace.
    telemetry.inject(contextWithSpan(parent, span), headers);
    void forwardRequest({ req, res, target, headers, agent, describeTarget: `the app on 127.0.0.1:${appPort}` }).then((end) =>
      telemetry.endHttpSpan(span, end),
    );
  };
}
