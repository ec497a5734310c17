// The telemetry record of one HTTP/2 (or gRPC) exchange, from its request headers and outcome; the parts only
// the caller knows (reporter, cluster, endpoint, workloads, principals) come in `where`.
import type { IncomingHttpHeaders } from "node:http2";
import type { RequestRecord } from "../telemetry/records.ts";
import type { H2Outcome } from "./h2-forward.ts";

export type H2RecordWhere = Pick<
  RequestRecord,
  "reporter" | "attempts" | "upstreamHost" | "upstreamCluster" | "routeName" | "source" | "destination" | "destinationService" | "sourcePrincipal" | "destinationPrincipal" | "mtls" | "spanContext"
>;

/** `requestId` is the one sent on (the sidecar sets one when the caller did not). */
export function buildH2Record(headers: IncomingHttpHeaders, requestId: unknown, grpc: boolean, startTimeMs: number, outcome: H2Outcome, where: H2RecordWhere): RequestRecord {
  // A literal, not a spread of `where`: the telemetry encoders read a spread-made record about half as fast
  // (bench/results/sidecar-telemetry-cost.md).
  return {
    reporter: where.reporter,
    attempts: where.attempts,
    upstreamHost: where.upstreamHost,
    upstreamCluster: where.upstreamCluster,
    routeName: where.routeName,
    source: where.source,
    destination: where.destination,
    destinationService: where.destinationService,
    sourcePrincipal: where.sourcePrincipal,
    destinationPrincipal: where.destinationPrincipal,
    mtls: where.mtls,
    spanContext: where.spanContext,
    protocol: grpc ? "grpc" : "http",
    httpVersion: "HTTP/2",
    method: headers[":method"] ?? "GET",
    path: headers[":path"] ?? "/",
    authority: headers[":authority"] ?? "",
    requestId: typeof requestId === "string" ? requestId : firstValue(headers["x-request-id"]),
    userAgent: headers["user-agent"] ?? null,
    startTimeMs,
    durationMs: Date.now() - startTimeMs,
    status: outcome.status,
    grpcStatus: outcome.grpcStatus,
    flags: outcome.flags ?? (outcome.flag === null ? [] : [outcome.flag]),
    requestBytes: outcome.requestBytes,
    responseBytes: outcome.responseBytes,
  };
}

function firstValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === "string" ? value : (value[0] ?? null);
}
