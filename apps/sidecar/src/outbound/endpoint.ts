// Outbound, endpoint layer: one concrete destination, a peer sidecar's inbound listener. Owns the connection
// (keep-alive pool today, mTLS later) and stamps the request with the CLIENT span's trace context.
import type http from "node:http";
import type { Context, Span } from "@opentelemetry/api";
import type { Endpoint } from "@trellis/mesh-config";
import { forwardRequest, type ExchangeOutcome } from "../proxy/forward.ts";
import { toUpstreamHeaders } from "../proxy/headers.ts";
import { contextWithSpan, type Telemetry } from "../telemetry.ts";

export type EndpointRequest = {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  endpoint: Endpoint;
  /** The CLIENT span of this request; the request carries its traceparent. */
  clientSpan: Span;
  /** The context the CLIENT span was started in. */
  parent: Context;
  telemetry: Telemetry;
  agent: http.Agent;
};

export function forwardToEndpoint({ req, res, endpoint, clientSpan, parent, telemetry, agent }: EndpointRequest): Promise<ExchangeOutcome> {
  const target = parseAddress(endpoint.address);
  clientSpan.setAttributes({ "server.address": target.host, "server.port": target.port, "trellis.destination_workload": endpoint.workloadId });
  const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress });
  telemetry.inject(contextWithSpan(parent, clientSpan), headers);
  return forwardRequest({ req, res, target, headers, agent, describeTarget: `endpoint ${endpoint.workloadId} at ${endpoint.address}` });
}

export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}
