// Outbound, endpoint layer: one concrete destination, a peer sidecar's inbound listener. Owns the connection
// (keep-alive pool today, mTLS later) and stamps the request with the CLIENT span's trace context.
import type http from "node:http";
import type { Context, Span } from "@opentelemetry/api";
import { forwardRequest, type ExchangeOutcome } from "../proxy/forward.ts";
import { toUpstreamHeaders } from "../proxy/headers.ts";
import { contextWithSpan, type Telemetry } from "../telemetry/index.ts";
import type { CompiledEndpoint } from "./routing-table.ts";

export type EndpointRequest = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  endpoint: CompiledEndpoint;
  /** The CLIENT span of this request; the request carries its traceparent. */
  clientSpan: Span;
  /** The context the CLIENT span was started in. */
  parent: Context;
  telemetry: Telemetry;
  agent: http.Agent;
  /** The route's timeout for this exchange (504 UT when it passes); none when undefined. */
  timeoutMs: number | undefined;
};

export function forwardToEndpoint({ req, res, endpoint, clientSpan, parent, telemetry, agent, timeoutMs }: EndpointRequest): Promise<ExchangeOutcome> {
  const { target } = endpoint;
  clientSpan.setAttributes({ "server.address": target.host, "server.port": target.port, "trellis.destination_workload": endpoint.workloadId });
  const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress });
  telemetry.inject(contextWithSpan(parent, clientSpan), headers);
  return forwardRequest({ req, res, target, headers, agent, describeTarget: endpoint.description, timeoutMs });
}
