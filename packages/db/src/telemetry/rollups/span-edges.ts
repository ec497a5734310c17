// RED contributions from spans, for services instrumented only with an OpenTelemetry SDK (no mesh proxy): as
// Tempo's service-graph processor does, a client span and the server span it caused (server.parentSpanId =
// client.spanId) are paired into one edge, caller service → callee service, timed by the server span. A span whose
// peer has not arrived within `waitMs` is recorded on its own: a server span with an unknown caller, a client
// span towards the peer its attributes name (an uninstrumented service, a database, an external API).
//
// Spans from mesh proxies are skipped — their istio_* metrics count those requests already — and so are edges
// into services whose proxies report istio_* metrics (an SDK-instrumented app inside the mesh).
//
// Pending spans live in memory (bounded by maxPending; the oldest are recorded early when it is full): after a
// crash, edges of spans still waiting are not counted, though the spans themselves are stored.
import { SpanKind, StatusCode, type AttributeValue, type SpanRecord } from "@trellis/otlp";
import { emptyHistogram, record } from "../latency-histogram.ts";
import { nanosToMs } from "./from-metrics.ts";
import { UNKNOWN, responseClassOf, type RedContribution } from "./red-contribution.ts";

type Pending = { client?: SpanRecord; server?: SpanRecord; expiresAt: number };

export type EdgeStep = {
  contributions: RedContribution[];
  /** Puts the pairer back as it was before this step (the transaction that was to store it failed). */
  undo: () => void;
};

const PROXY_SCOPES = new Set(["@trellis/sidecar"]);

export class SpanEdgePairer {
  private readonly pending = new Map<string, Pending>();
  private readonly waitMs: number;
  private readonly maxPending: number;

  constructor({ waitMs, maxPending = 200_000 }: { waitMs: number; maxPending?: number }) {
    this.waitMs = waitMs;
    this.maxPending = maxPending;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds newly stored spans and takes every edge that is complete or expired at `now`. `isMeshService(name)` says
   * whether a service's requests are already counted from istio_* metrics.
   */
  step(spans: readonly SpanRecord[], now: number, isMeshService: (service: string) => boolean): EdgeStep {
    const before = new Map<string, Pending | undefined>();
    const remember = (key: string) => {
      if (before.has(key)) return;
      const entry = this.pending.get(key);
      before.set(key, entry && { ...entry });
    };
    const done: Pending[] = [];
    for (const span of spans) {
      const key = keyOf(span);
      if (key === null || fromProxy(span)) continue;
      if (key === "") {
        done.push({ server: span, expiresAt: now }); // a server span that started its trace: nobody called it
        continue;
      }
      remember(key);
      const entry = this.pending.get(key) ?? { expiresAt: now + this.waitMs };
      if (span.kind === SpanKind.CLIENT) entry.client = span;
      else entry.server = span;
      if (entry.client && entry.server) {
        this.pending.delete(key);
        done.push(entry);
      } else {
        this.pending.set(key, entry);
      }
    }
    for (const [key, entry] of this.pending) {
      // Map iteration is insertion order, so the first unexpired entry ends the expired ones — unless the map is
      // over its bound, when the oldest go early.
      if (entry.expiresAt > now && this.pending.size <= this.maxPending) break;
      remember(key);
      this.pending.delete(key);
      done.push(entry);
    }
    const contributions = done.map((entry) => toContribution(entry)).filter((c): c is RedContribution => c !== null && !isMeshService(c.destinationService));
    return {
      contributions,
      undo: () => {
        for (const [key, entry] of before) {
          if (entry) this.pending.set(key, entry);
          else this.pending.delete(key);
        }
      },
    };
  }
}

function keyOf(span: SpanRecord): string | null {
  if (span.kind === SpanKind.CLIENT) return `${span.traceId}${span.spanId}`;
  if (span.kind === SpanKind.SERVER) return span.parentSpanId ? `${span.traceId}${span.parentSpanId}` : "";
  return null;
}

function fromProxy(span: SpanRecord): boolean {
  if (span.scopeName !== null && PROXY_SCOPES.has(span.scopeName)) return true;
  // Envoy's OpenTelemetry tracer marks its spans so.
  return span.attributes.component === "proxy" || span.attributes.upstream_cluster !== undefined;
}

function toContribution({ client, server }: Pending): RedContribution | null {
  const timing = server ?? client;
  if (!timing) return null;
  const durationMs = Number(timing.endTimeUnixNano - timing.startTimeUnixNano) / 1e6;
  const status = server?.httpStatusCode ?? client?.httpStatusCode ?? null;
  const grpc = attribute(timing, "rpc.system") === "grpc";
  const grpcStatus = attribute(server, "rpc.grpc.status_code") ?? attribute(client, "rpc.grpc.status_code");
  const failed = timing.statusCode === StatusCode.ERROR || (status !== null && status >= 500) || (grpcStatus !== null && grpcStatus !== "0");
  const histogram = emptyHistogram();
  record(histogram, durationMs);
  const source = client ? peerOf(client) : unknownPeer();
  const destination = server ? peerOf(server) : calleeOf(client as SpanRecord);
  return {
    timeMs: nanosToMs(timing.startTimeUnixNano),
    sourceNamespace: source.namespace,
    sourceService: source.service,
    sourceWorkload: source.workload,
    sourceVersion: source.version,
    destinationNamespace: destination.namespace,
    destinationService: destination.service,
    destinationWorkload: destination.workload,
    destinationVersion: destination.version,
    protocol: grpc ? "grpc" : "http",
    responseClass: status !== null ? responseClassOf(status) : failed ? "5xx" : "2xx",
    requests: 1,
    errors: failed ? 1 : 0,
    mtlsRequests: 0,
    durationSumMs: durationMs,
    histogram,
  };
}

type Peer = { namespace: string; service: string; workload: string; version: string };

function peerOf(span: SpanRecord): Peer {
  const workload = attribute(span, "k8s.deployment.name", true) ?? span.serviceName;
  return {
    namespace: span.serviceNamespace ?? attribute(span, "k8s.namespace.name", true) ?? UNKNOWN,
    service: span.serviceName,
    workload,
    version: span.serviceVersion ?? UNKNOWN,
  };
}

/** Who a client span called when no server span answered: the peer its semantic-convention attributes name. */
function calleeOf(client: SpanRecord): Peer {
  const service =
    attribute(client, "peer.service") ?? attribute(client, "server.address") ?? attribute(client, "net.peer.name") ?? attribute(client, "db.system") ?? UNKNOWN;
  return { namespace: UNKNOWN, service, workload: UNKNOWN, version: UNKNOWN };
}

function unknownPeer(): Peer {
  return { namespace: UNKNOWN, service: UNKNOWN, workload: UNKNOWN, version: UNKNOWN };
}

function attribute(span: SpanRecord | undefined, key: string, fromResource = false): string | null {
  if (!span) return null;
  const value: AttributeValue | undefined = fromResource ? span.resourceAttributes[key] : span.attributes[key];
  return value === undefined || value === null || value === "" ? null : String(value);
}
