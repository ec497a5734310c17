// Inbound HTTP/2 (h2 from a peer sidecar over mTLS, or h2c): a SERVER span per stream, then the stream is
// forwarded to the app over h2c on one multiplexed session, trailers and all (gRPC). The HTTP/1.1 inbound path
// stays in inbound/handler.ts.
import type { Telemetry } from "../telemetry/index.ts";
import type { WorkloadLabels } from "../telemetry/records.ts";
import { peerOf } from "../transport/peer.ts";
import { createPeerMetadataDecoder, PEER_METADATA_HEADER } from "../transport/peer-metadata.ts";
import { forwardH2 } from "./h2-forward.ts";
import { isGrpc, toUpstreamH2Headers } from "./h2-headers.ts";
import type { H2StreamHandler } from "./h2-outbound.ts";
import { buildH2Record } from "./h2-record.ts";
import type { H2SessionPool } from "./h2-session-pool.ts";
import { pathOf } from "./request-info.ts";

export type H2InboundDeps = {
  /** The app's HTTP port on 127.0.0.1 (it must speak h2c for HTTP/2 requests, as gRPC servers do). */
  appPort: number;
  telemetry: Telemetry;
  pool: H2SessionPool;
  /** This workload, the destination of every request. */
  destination: WorkloadLabels;
};

export function createInboundH2Handler({ appPort, telemetry, pool, destination }: H2InboundDeps): H2StreamHandler {
  const target = { host: "127.0.0.1", port: appPort };
  const describeTarget = `the app on 127.0.0.1:${appPort}`;
  const decodePeer = createPeerMetadataDecoder();
  return (stream, headers) => {
    const startTimeMs = Date.now();
    const grpc = isGrpc(headers);
    const parent = telemetry.extract(headers);
    const socket = stream.session?.socket;
    const span = telemetry.startHttpSpan({
      kind: "server",
      method: headers[":method"] ?? "GET",
      path: pathOf(headers[":path"]),
      serverAddress: (headers[":authority"] ?? socket?.localAddress ?? "").replace(/:\d+$/, ""),
      serverPort: socket?.localPort,
      parent,
    });
    const outgoing = toUpstreamH2Headers(headers, socket?.remoteAddress);
    const source = decodePeer(headers[PEER_METADATA_HEADER]);
    delete outgoing[PEER_METADATA_HEADER]; // mesh-internal; the app has no use for it
    // The app sees this SERVER span as its parent, as on the HTTP/1.1 path.
    telemetry.inject(span, outgoing);
    const session = pool.session(target, null);
    void forwardH2({ downstream: stream, session, headers: outgoing, describeTarget, grpc }).then((outcome) => {
      telemetry.endHttpSpan(span, outcome);
      const peer = peerOf(socket);
      telemetry.recordRequest(
        buildH2Record(headers, outgoing["x-request-id"], grpc, startTimeMs, outcome, {
          reporter: "destination",
          attempts: 1,
          upstreamHost: `127.0.0.1:${appPort}`,
          upstreamCluster: null,
          routeName: null,
          source,
          destination,
          destinationService: destination.app,
          sourcePrincipal: peer.identity?.id ?? null,
          destinationPrincipal: null,
          mtls: peer.mtls,
          spanContext: span,
        }),
      );
    });
  };
}
