// Outbound circuit breaking, connection reuse, outlier detection and mirroring end to end (see resilience.fixture.ts
// for the mesh).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { apps, applyPolicies, clusterView, closers, outbound, registerBareEndpoint, retrying, send, useResilienceMesh, virtualService, waitFor, type Reply } from "./resilience.fixture.ts";

useResilienceMesh();

describe("circuit breaking", () => {
  it("answers overflow at once with 503 UO, then recovers", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: hold-service
spec:
  host: hold-service
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
`);
    const app = apps.get("hold-service-v1");
    if (app === undefined) throw new Error("no hold-service app");
    const first = send(outbound("hold-service"), "/hold");
    await waitFor("the first request at the app", () => app.held.length, (n) => n === 1);
    const second = send(outbound("hold-service"), "/hold");
    await waitFor("the second request pending", () => clusterView("hold-service"), (c) => c?.pendingRequests === 1);
    const third = await send(outbound("hold-service"), "/hold");
    expect(third).toMatchObject({ status: 503, flags: "UO" });
    expect(third.body).toContain("http1MaxPendingRequests");
    expect(app.held).toHaveLength(1);

    app.held.shift()?.end("released");
    await waitFor("the second request at the app", () => app.held.length, (n) => n === 1);
    app.held.shift()?.end("released");
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
    const after = send(outbound("hold-service"), "/hold");
    await waitFor("recovery", () => app.held.length, (n) => n === 1);
    app.held.shift()?.end("released");
    expect((await after).status).toBe(200);
    const view = await clusterView("hold-service");
    expect(view?.counters.overflowPending).toBe(1);
    expect(view?.connections).toBeLessThanOrEqual(1);
  });

  it("answers 503 UO when maxRequests are in flight", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: hold-service
spec:
  host: hold-service
  trafficPolicy:
    connectionPool:
      http:
        http2MaxRequests: 1
`);
    const app = apps.get("hold-service-v1");
    if (app === undefined) throw new Error("no hold-service app");
    const first = send(outbound("hold-service"), "/hold");
    await waitFor("the first request at the app", () => app.held.length, (n) => n === 1);
    expect(await send(outbound("hold-service"), "/hold")).toMatchObject({ status: 503, flags: "UO" });
    app.held.shift()?.end("released");
    expect((await first).status).toBe(200);
    expect((await clusterView("hold-service"))?.counters.overflowRequests).toBe(1);
  });
});

describe("connection reuse", () => {
  it("reuses one kept-alive connection, and closes it after maxRequestsPerConnection requests", async () => {
    let connections = 0;
    const counted = http.createServer((_req, res) => res.end("counted"));
    counted.on("connection", () => (connections += 1));
    await new Promise<void>((resolve) => counted.listen(0, "127.0.0.1", resolve));
    closers.push(() => void (counted.closeAllConnections(), counted.close()));
    registerBareEndpoint("counted-service", "counted-0", `127.0.0.1:${(counted.address() as AddressInfo).port}`);
    await waitFor("the counted endpoint", () => clusterView("counted-service"), (c) => c?.endpoints.length === 1);
    for (let i = 0; i < 4; i += 1) expect((await send(outbound("counted-service"), "/a")).status).toBe(200);
    expect(connections).toBe(1);

    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: counted-service
spec:
  host: counted-service
  trafficPolicy:
    connectionPool:
      http:
        maxRequestsPerConnection: 2
`);
    const before = connections;
    for (let i = 0; i < 6; i += 1) expect((await send(outbound("counted-service"), "/b")).status).toBe(200);
    // The limit counts from when it applies: the open connection serves 2 more, then each new one 2.
    expect(connections - before).toBe(2);
    for (let i = 0; i < 2; i += 1) expect((await send(outbound("counted-service"), "/c")).status).toBe(200);
    expect(connections - before).toBe(3);
  });
});

describe("outlier detection", () => {
  it("ejects an endpoint after consecutive 5xx, sends everything to the other, and takes it back after the ejection time", async () => {
    await applyPolicies(`apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: bad-service
spec:
  host: bad-service
  trafficPolicy:
    outlierDetection:
      consecutive5xxErrors: 2
      interval: 100ms
      baseEjectionTime: 500ms
      maxEjectionPercent: 50
---
${retrying("bad-service", "      attempts: 0\n")}`);
    const sick = apps.get("bad-service-v1");
    if (sick === undefined) throw new Error("no bad-service app");
    sick.sick.on = true;
    const early: Reply[] = [];
    for (let i = 0; i < 6; i += 1) early.push(await send(outbound("bad-service"), "/work"));
    expect(early.filter((r) => r.status === 500)).toHaveLength(2);
    const view = await clusterView("bad-service");
    expect(view?.endpoints.find((e) => e.workloadId === "bad-service-v1")).toMatchObject({ health: "ejected", timesEjected: 1 });
    expect(view?.counters.ejections).toBe(1);
    const during: Reply[] = [];
    for (let i = 0; i < 6; i += 1) during.push(await send(outbound("bad-service"), "/work"));
    expect(during.every((r) => r.status === 200 && r.app === "bad-service-v2")).toBe(true);

    sick.sick.on = false;
    await waitFor("the return", () => clusterView("bad-service"), (c) => c?.endpoints.every((e) => e.health === "healthy") === true);
    const back = new Set<string | undefined>();
    for (let i = 0; i < 4; i += 1) back.add((await send(outbound("bad-service"), "/work")).app);
    expect([...back].sort()).toEqual(["bad-service-v1", "bad-service-v2"]);
  });
});

describe("mirroring", () => {
  it("sends a copy to the shadow service with the authority suffixed -shadow, leaving the main answer alone", async () => {
    await applyPolicies(virtualService("order-service", `  - route:
    - destination:
        host: order-service
    mirror:
      host: shadow-service
    mirrorPercentage:
      value: 100
`));
    const shadow = apps.get("shadow-service-v1");
    const reply = await send(outbound("order-service"), "/mirrored", { method: "POST", body: "copy-me", headers: { host: "order-service:80" } });
    expect(reply).toMatchObject({ status: 200, app: "order-service-v1" });
    const copy = await waitFor("the shadow copy", () => shadow?.seen.find((s) => s.url === "/mirrored"), (s) => s !== undefined);
    expect(copy).toMatchObject({ host: "order-service-shadow:80", body: "copy-me" });
    expect(apps.get("order-service-v1")?.hits("/mirrored")).toBe(1);
  });
});
