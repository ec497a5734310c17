// Test data for the dashboard queries: the span pair a sidecar mesh reports for one call (a CLIENT span in the
// caller, a SERVER span in the callee whose parent it is), and a lone SERVER span for traffic entering the mesh.
import { randomBytes } from "node:crypto";
import type { SpanRecord } from "@trellis/otlp";

export type Workload = { service: string; version?: string | null; namespace?: string | null };

export type CallOptions = {
  at: Date;
  durationMs?: number;
  /** OTLP status of the callee's span (2 = error). */
  serverStatus?: number;
  /** OTLP status of the caller's span; defaults to the callee's. */
  clientStatus?: number;
  httpStatus?: number | null;
  traceId?: string;
  /** The span the caller's CLIENT span is a child of (its own SERVER span), when chaining calls. */
  parentSpanId?: string | null;
};

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

function toNanos(date: Date): bigint {
  return BigInt(date.getTime()) * 1_000_000n;
}

function baseSpan(workload: Workload, kind: number, options: CallOptions, spanId: string, parentSpanId: string | null, traceId: string, status: number): SpanRecord {
  const start = toNanos(options.at);
  return {
    traceId,
    spanId,
    parentSpanId,
    serviceName: workload.service,
    serviceNamespace: workload.namespace === undefined ? "default" : workload.namespace,
    serviceVersion: workload.version === undefined ? "v1" : workload.version,
    name: "GET /",
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(Math.round((options.durationMs ?? 10) * 1_000_000)),
    statusCode: status,
    statusMessage: null,
    httpStatusCode: options.httpStatus === undefined ? (status === 2 ? 500 : 200) : options.httpStatus,
    attributes: {},
    resourceAttributes: { "service.name": workload.service },
    events: [],
  };
}

/** A request entering the mesh at `callee` (no caller span). */
export function buildServerSpan(callee: Workload, options: CallOptions): SpanRecord {
  return baseSpan(callee, 2, options, hex(8), options.parentSpanId ?? null, options.traceId ?? hex(16), options.serverStatus ?? 0);
}

/** One call from `caller` to `callee`: [client span, server span]. */
export function buildCall(caller: Workload, callee: Workload, options: CallOptions): [SpanRecord, SpanRecord] {
  const traceId = options.traceId ?? hex(16);
  const serverStatus = options.serverStatus ?? 0;
  const client = baseSpan(caller, 3, options, hex(8), options.parentSpanId ?? null, traceId, options.clientStatus ?? serverStatus);
  const server = baseSpan(callee, 2, options, hex(8), client.spanId, traceId, serverStatus);
  return [client, server];
}

/** `count` copies of a span-producing call, each with fresh ids. */
export function repeat(count: number, build: () => SpanRecord[]): SpanRecord[] {
  return Array.from({ length: count }, build).flat();
}

/**
 * A small shop's five minutes of traffic, ending at `now`, with known answers (see the query tests):
 * gateway → frontend → catalog-service / order-service v1+v2 → payment-service / inventory-service, a cron job
 * that only calls, plus spans just outside the window that must not count.
 */
export function buildShopTraffic(now: Date): SpanRecord[] {
  const at = new Date(now.getTime() - 60_000);
  const gateway = { service: "gateway" };
  const frontend = { service: "frontend" };
  const catalog = { service: "catalog-service" };
  const orderV1 = { service: "order-service", version: "v1" };
  const orderV2 = { service: "order-service", version: "v2" };
  const payment = { service: "payment-service" };
  const inventory = { service: "inventory-service" };
  const cron = { service: "cron-job" };
  const spans: SpanRecord[] = [
    ...repeat(30, () => [buildServerSpan(gateway, { at })]),
    ...repeat(27, () => buildCall(gateway, frontend, { at })),
    ...repeat(3, () => buildCall(gateway, frontend, { at, serverStatus: 2 })),
    ...repeat(20, () => buildCall(frontend, catalog, { at })),
    // A 404: an error for the caller in OpenTelemetry terms, but not for the callee nor the edge.
    ...buildCall(frontend, catalog, { at, clientStatus: 2, httpStatus: 404 }),
    ...repeat(9, () => buildCall(frontend, orderV1, { at })),
    ...repeat(2, () => buildCall(frontend, orderV2, { at })),
    ...buildCall(frontend, orderV2, { at, serverStatus: 2 }),
    // The caller timed out although the callee answered: an edge error, not a callee error.
    ...buildCall(orderV2, inventory, { at, clientStatus: 2, httpStatus: null }),
    ...repeat(6, () => buildCall(cron, catalog, { at })),
    // Stored a day earlier, so every window these tests use is fully covered by telemetry (resolveObservedWindow).
    buildServerSpan({ service: "archived-job" }, { at: new Date(now.getTime() - 86_400_000) }),
    // Outside the window: ten minutes ago, and in the future.
    ...repeat(50, () => buildCall(frontend, { service: "retired-service" }, { at: new Date(now.getTime() - 600_000) })),
    ...repeat(5, () => buildCall(frontend, catalog, { at: new Date(now.getTime() + 10_000), serverStatus: 2 })),
  ];
  // payment-service latencies 10, 20, ..., 90 ms: p50 = 50 ms, p99 = 89.2 ms (linear interpolation).
  for (let i = 1; i <= 9; i += 1) spans.push(...buildCall(orderV1, payment, { at, durationMs: i * 10 }));
  return spans;
}
