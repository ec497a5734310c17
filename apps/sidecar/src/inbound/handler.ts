// Inbound: requests from other sidecars (or anyone the mTLS mode lets in) to this sidecar's mesh port, checked
// against the AuthorizationPolicies selecting this workload and forwarded to the local app. Who called comes from
// the connection (the verified SPIFFE ID, attached by transport/listener.ts) and, for metric labels, from the
// calling sidecar's x-trellis-peer-metadata header, which the app never sees.
import type { Http1Handler } from "../http1/types.ts";
import type { ClusterPool } from "../outbound/pools.ts";
import type { Snapshot } from "@trellis/mesh-config";
import { forwardRequest, sendLocalReply } from "../proxy/forward.ts";
import { toUpstreamHeaders, upstreamDropSet } from "../proxy/headers.ts";
import { hostOf, pathOf } from "../proxy/request-info.ts";
import type { ResponseFlag } from "../response-flags.ts";
import type { Telemetry } from "../telemetry/index.ts";
import type { RequestRecord, WorkloadLabels } from "../telemetry/records.ts";
import { peerOf, type Peer } from "../transport/peer.ts";
import { createPeerMetadataDecoder, PEER_METADATA_HEADER } from "../transport/peer-metadata.ts";
import { authorize } from "./authorization.ts";

export type InboundDeps = {
  appPort: number;
  telemetry: Telemetry;
  /** Keep-alive connections to the app. */
  pool: ClusterPool;
  /** The config in force; its inbound.authorization is enforced. */
  currentSnapshot: () => Snapshot | null;
  /** This workload, as the destination of every inbound request. */
  self: WorkloadLabels;
  /** This sidecar's SPIFFE ID (the destination principal on mTLS), or null without a mesh identity. */
  spiffeId: string | null;
};

/** Envoy's header telling the app who called over mTLS (Istio sidecars: SANITIZE_SET, so callers cannot forge it). */
export const XFCC_HEADER = "x-forwarded-client-cert";
/** The calling sidecar's description of itself is for our metrics, not for the app; XFCC is only ever ours. */
const INBOUND_DROP = upstreamDropSet([PEER_METADATA_HEADER, XFCC_HEADER]);
const RBAC_DENIED = { status: 403, flag: "RBAC", body: "RBAC: access denied" } as const;
const NO_FLAGS: readonly ResponseFlag[] = Object.freeze([]);
/** One frozen list per flag, so a record never allocates its flags. */
const FLAG_LISTS = new Map<ResponseFlag, readonly ResponseFlag[]>();

/** Per request: what the record needs besides the request itself (one small object, no closures over big ones). */
type Exchange = { startTimeMs: number; startedAt: number; requestBytes: number; responseBytes: number };

export function createInboundHandler({ appPort, telemetry, pool, currentSnapshot, self, spiffeId }: InboundDeps): Http1Handler {
  const target = { host: "127.0.0.1", port: appPort };
  const describeTarget = `the app on 127.0.0.1:${appPort}`;
  const upstreamHost = `127.0.0.1:${appPort}`;
  // Istio names the inbound cluster inbound|<port>||.
  const upstreamCluster = `inbound|${appPort}||`;
  const decodePeer = createPeerMetadataDecoder();
  // One XFCC value per connection's peer, made on its first request.
  const xfccOf = new WeakMap<Peer, string>();

  return (req, res) => {
    const x: Exchange = { startTimeMs: Date.now(), startedAt: performance.now(), requestBytes: 0, responseBytes: 0 };
    const peer = peerOf(req.socket);
    const method = req.method ?? "GET";
    const path = pathOf(req.url);
    const parent = telemetry.extract(req.headers);
    const span = telemetry.startHttpSpan({ kind: "server", method, path, serverAddress: hostOf(req), serverPort: req.socket.localPort, parent });
    const source = decodePeer(req.headers[PEER_METADATA_HEADER]);

    const finish = (status: number | null, flag: ResponseFlag | null, forwarded: boolean, requestId: string | null) => {
      const record: RequestRecord = {
        reporter: "destination",
        protocol: isGrpc(req.headers["content-type"]) ? "grpc" : "http",
        httpVersion: req.httpVersion === "2.0" ? "HTTP/2" : `HTTP/${req.httpVersion}`,
        method,
        path: req.url ?? "/",
        authority: req.headers.host ?? "",
        requestId,
        userAgent: req.headers["user-agent"] ?? null,
        startTimeMs: x.startTimeMs,
        durationMs: performance.now() - x.startedAt,
        status,
        grpcStatus: null,
        flags: flagList(flag),
        requestBytes: x.requestBytes,
        responseBytes: x.responseBytes,
        attempts: forwarded ? 1 : 0,
        upstreamHost: forwarded ? upstreamHost : null,
        upstreamCluster: forwarded ? upstreamCluster : null,
        routeName: null,
        source,
        destination: self,
        destinationService: self.app,
        sourcePrincipal: peer.identity?.id ?? null,
        destinationPrincipal: peer.mtls ? spiffeId : null,
        mtls: peer.mtls,
        xForwardedFor: firstHeader(req.headers["x-forwarded-for"]),
        responseCodeDetails: flag === "RBAC" ? "rbac_access_denied_matched_policy" : forwarded && flag === null ? "via_upstream" : null,
        spanContext: span,
      };
      telemetry.recordRequest(record);
      telemetry.endHttpSpan(span, { status, flag, record });
    };

    const policies = currentSnapshot()?.inbound.authorization;
    if (policies !== undefined && policies.length > 0) {
      const denied = authorize(policies, { principal: peer.principal, namespace: peer.identity?.namespace ?? null, path, method });
      if (denied !== null) {
        span.rbacDenied = denied;
        sendLocalReply(res, RBAC_DENIED);
        res.once("close", () => finish(res.headersSent ? res.statusCode : null, "RBAC", false, firstHeader(req.headers["x-request-id"])));
        return;
      }
    }

    const headers = toUpstreamHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, alsoDrop: INBOUND_DROP });
    if (peer.identity !== null && spiffeId !== null) {
      let xfcc = xfccOf.get(peer);
      if (xfcc === undefined) {
        xfcc = `By=${spiffeId};URI=${peer.identity.id}`;
        xfccOf.set(peer, xfcc);
      }
      headers[XFCC_HEADER] = xfcc;
    }
    const requestId = typeof headers["x-request-id"] === "string" ? headers["x-request-id"] : null;
    // The app sees this SERVER span as its parent (as behind Envoy), so calls it makes while handling the request,
    // when it copies traceparent onto them, nest under this hop in the trace.
    telemetry.inject(span, headers);
    void forwardRequest({ req, res, target, headers, pool, describeTarget, bytes: x }).then((end) => finish(end.status, end.flag, true, requestId));
  };
}

function flagList(flag: ResponseFlag | null): readonly ResponseFlag[] {
  if (flag === null) return NO_FLAGS;
  let list = FLAG_LISTS.get(flag);
  if (list === undefined) {
    list = Object.freeze([flag]);
    FLAG_LISTS.set(flag, list);
  }
  return list;
}

function isGrpc(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith("application/grpc");
}

function firstHeader(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === "string" ? value : (value[0] ?? null);
}
