// Outbound retries end to end (see resilience.fixture.ts for the mesh): each retry condition, the request body
// replayed, per-try timeout, URX, Istio's default policy, one span per attempt, and the retry budget during an outage.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { startSidecar } from "../sidecar.ts";
import { apps, applyPolicies, clusterView, closers, controlPlaneUrl, frontend, frontendSpans, otlpPort, outbound, quiet, registerBareEndpoint, retrying, send, sidecars, startApp, useResilienceMesh, waitFor } from "./resilience.fixture.ts";

useResilienceMesh();

describe("retries", () => {
  it("retries 5xx and replays the request body; the caller sees only the final answer", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 3\n      retryOn: 5xx\n"));
    const app = apps.get("order-service-v1");
    const reply = await send(outbound("order-service"), "/status/500/2/a", { method: "POST", body: "payload" });
    expect(reply).toMatchObject({ status: 200, flags: undefined, body: "order-service-v1:3:payload" });
    expect(app?.seen.filter((s) => s.url === "/status/500/2/a").map((s) => s.body)).toEqual(["payload", "payload", "payload"]);
    expect(app?.seen.at(-1)?.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect((await clusterView("order-service"))?.counters).toMatchObject({ retries: 2, retrySuccess: 1 });
    // One CLIENT span per attempt, in one trace, each saying what its attempt got.
    const spans = await waitFor("three attempt spans", () => frontendSpans.filter((span) => span.attributes["url.path"] === "/status/500/2/a"), (list) => list.length === 3);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(spans.map((span) => [span.attributes["http.response.status_code"], span.attributes["http.request.resend_count"] ?? 0]).sort()).toEqual([
      [200, 2],
      [500, 0],
      [500, 1],
    ]);
  });

  it("does not retry a request whose body is over the 1 MiB retry buffer", async () => {
    const big = "x".repeat(1024 * 1024 + 1);
    const reply = await send(outbound("order-service"), "/status/500/1/big", { method: "PUT", body: big });
    expect(reply.status).toBe(500);
    expect(reply.body.length).toBe("order-service-v1:1:".length + big.length);
    expect(apps.get("order-service-v1")?.hits("/status/500/1/big")).toBe(1);
  });

  it("gives up with the last answer and URX when attempts run out", async () => {
    const reply = await send(outbound("order-service"), "/always/503");
    expect(reply).toMatchObject({ status: 503, flags: "URX" });
    expect(apps.get("order-service-v1")?.hits("/always/503")).toBe(4);
  });

  it("retries gateway errors but not other 5xx under gateway-error", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 2\n      retryOn: gateway-error\n"));
    expect(await send(outbound("order-service"), "/status/502/1/b")).toMatchObject({ status: 200 });
    expect(await send(outbound("order-service"), "/status/500/1/c")).toMatchObject({ status: 500, flags: undefined });
    expect(apps.get("order-service-v1")?.hits("/status/500/1/c")).toBe(1);
  });

  it("retries 409 under retriable-4xx", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 2\n      retryOn: retriable-4xx\n"));
    expect(await send(outbound("order-service"), "/status/409/1/d")).toMatchObject({ status: 200, body: "order-service-v1:2:" });
  });

  it("ends a slow attempt at the per-try timeout and retries it", async () => {
    await applyPolicies(retrying("order-service", "      attempts: 2\n      perTryTimeout: 100ms\n      retryOn: gateway-error\n"));
    const reply = await send(outbound("order-service"), "/slow/2000/1/e");
    expect(reply).toMatchObject({ status: 200, body: "order-service-v1:2:" });
    expect((await clusterView("order-service"))?.counters.perTryTimeouts).toBe(1);
  });

  it("retries a connect failure on another endpoint (Istio's default policy, no VirtualService)", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    registerBareEndpoint("ledger-service", "ledger-dead", `127.0.0.1:${deadPort}`);
    await waitFor("the dead ledger endpoint", () => clusterView("ledger-service"), (c) => c?.endpoints.length === 1);
    // Only a dead endpoint: the default policy tries 3 times, then says UF and URX.
    const reply = await send(outbound("ledger-service"), "/entries");
    expect(reply).toMatchObject({ status: 503, flags: "UF,URX" });
    expect(reply.body).toContain("after 3 attempts");

    const ledger = await startApp("ledger");
    closers.push(ledger.close);
    const common = { mode: "sidecar", namespace: "default", adminPort: 0, inboundPort: 0, controlPlaneUrl, otlpEndpoint: `http://127.0.0.1:${otlpPort}`, log: quiet } as const;
    sidecars.push(await startSidecar({ ...common, service: "ledger-service", version: "v1", workload: "ledger-live", appPort: ledger.port, upstreams: [] }));
    await waitFor("both ledger endpoints", () => clusterView("ledger-service"), (c) => c?.endpoints.length === 2);
    const replies = await Promise.all(Array.from({ length: 6 }, () => send(outbound("ledger-service"), "/entries")));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(ledger.hits("/entries")).toBe(6);
  });

  it("retries a connection reset under reset, and not without it", async () => {
    let resets = 0;
    const flaky = http.createServer((req, res) => {
      resets += 1;
      // Half a status line, then the connection drops: a reset before any response the proxy could pass on.
      if (resets <= 1 || req.url === "/always-reset") return void req.socket.end("HTTP/1.1 200 O", () => req.socket.destroy());
      res.end("survived");
    });
    await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
    closers.push(() => void (flaky.closeAllConnections(), flaky.close()));
    registerBareEndpoint("flaky-service", "flaky-0", `127.0.0.1:${(flaky.address() as AddressInfo).port}`);
    await waitFor("the flaky endpoint", () => clusterView("flaky-service"), (c) => c?.endpoints.length === 1);
    await applyPolicies(retrying("flaky-service", "      attempts: 2\n      retryOn: reset\n"));
    expect(await send(outbound("flaky-service"), "/once")).toMatchObject({ status: 200, body: "survived" });
    await applyPolicies(retrying("flaky-service", "      attempts: 2\n      retryOn: retriable-4xx\n"));
    const before = resets;
    expect(await send(outbound("flaky-service"), "/always-reset")).toMatchObject({ status: 503, flags: "UC" });
    expect(resets - before).toBe(1);
  });
});

describe("telemetry", () => {
  it("reports each request once with its attempts' flags, and retries as cluster events", async () => {
    const scrape = () => fetch(`http://127.0.0.1:${frontend.ports.admin}/stats/prometheus`).then((r) => r.text());
    const lines = (text: string, ...parts: string[]) => text.split("\n").filter((line) => parts.every((part) => line.includes(part)));
    const text = await waitFor("the frontend's metrics", scrape, (t) => lines(t, "istio_requests_total", 'response_flags="UF,URX"').length > 0);
    expect(lines(text, "istio_requests_total", 'reporter="source"', 'destination_service_name="ledger-service"', 'response_code="503"', 'response_flags="UF,URX"', 'source_workload="frontend-v1"')).toHaveLength(1);
    expect(lines(text, "trellis_upstream_events_total", 'cluster_name="order-service"', 'event="retry"')).toHaveLength(1);
    expect(lines(text, "trellis_upstream_events_total", 'cluster_name="ledger-service"', 'event="retry_limit_exceeded"')).toHaveLength(1);
  });
});

describe("retry budget", () => {
  it("keeps retries to a small share during an outage: 100 concurrent requests with attempts 5 against an always-503 app", async () => {
    await applyPolicies(retrying("outage-service", "      attempts: 5\n      retryOn: 5xx\n"));
    const app = apps.get("outage-service-v1");
    const replies = await Promise.all(Array.from({ length: 100 }, () => send(outbound("outage-service"), "/always/503")));
    expect(replies.every((r) => r.status === 503 && r.flags === "URX")).toBe(true);
    const hits = app?.hits("/always/503") ?? 0;
    // Without a budget the app would see 600. The budget allows max(20% of active, 3) retries in flight.
    expect(hits).toBeGreaterThan(100);
    expect(hits).toBeLessThan(250);
    const view = await clusterView("outage-service");
    expect(view?.counters.retryOverflow).toBeGreaterThan(0);
    expect(view?.counters.retries).toBe(hits - 100);
  });
});

