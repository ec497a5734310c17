// The health report against a real Postgres and real sockets: an HTTP peer that answers /healthz, one that never
// answers, and a port nobody listens on.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDatabase, findFreePort } from "@trellis/db";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { checkHealth } from "./health.ts";

function listenOn(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

describe("checkHealth", () => {
  let test: TestDatabase;
  let healthy: Server;
  let silent: Server;
  let healthyUrl: string;
  let silentUrl: string;
  let closedUrl: string;
  const paths: string[] = [];

  beforeAll(async () => {
    test = await createTestDatabase();
    healthy = createServer((req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(req.url === "/healthz" ? 200 : 404).end("ok");
    });
    silent = createServer(() => {
      // never answers: the probe must give up on its own
    });
    healthyUrl = await listenOn(healthy);
    silentUrl = await listenOn(silent);
    closedUrl = `http://127.0.0.1:${await findFreePort()}`;
  });
  afterAll(async () => {
    healthy?.closeAllConnections();
    silent?.closeAllConnections();
    healthy?.close();
    silent?.close();
    await test?.drop();
  });

  const databaseUp = () => async () => {
    await test.db.pool.query("SELECT 1");
  };

  it("is ok when Postgres answers and both peers answer /healthz", async () => {
    const report = await checkHealth({ checkDatabase: databaseUp(), ingestUrl: healthyUrl, controlPlaneUrl: healthyUrl });
    expect(report).toEqual({ status: "ok", components: { database: "up", ingest: "up", controlPlane: "up", web: "up" } });
    expect(paths).toContain("/healthz");
  });

  it("names what is down and why", async () => {
    const report = await checkHealth({ checkDatabase: databaseUp(), ingestUrl: closedUrl, controlPlaneUrl: silentUrl, timeoutMs: 300 });
    expect(report).toEqual({
      status: "degraded",
      components: { database: "up", ingest: "down", controlPlane: "down", web: "up" },
      reasons: { ingest: "connection refused", controlPlane: "no answer within 300 ms" },
    });
  });

  it("reports a database it cannot query", async () => {
    const closed = await connectDatabase({ url: test.url });
    await closed.close();
    const refused = await checkHealth({
      checkDatabase: async () => {
        await closed.pool.query("SELECT 1");
      },
      ingestUrl: healthyUrl,
      controlPlaneUrl: healthyUrl,
    });
    expect(refused.components.database).toBe("down");
    expect(refused.reasons?.database).toMatch(/pool/i);

    const missing = await checkHealth({
      checkDatabase: async () => {
        await connectDatabase({ url: `postgresql://postgres@127.0.0.1:${new URL(closedUrl).port}/trellis` });
      },
      ingestUrl: healthyUrl,
      controlPlaneUrl: healthyUrl,
    });
    expect(missing).toMatchObject({ status: "degraded", components: { database: "down" }, reasons: { database: "connection refused" } });
  });
});
