// `trellis up` refusing bad setups with one actionable line (no stack trace), before it starts anything.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "@trellis/db";

const cli = resolve(import.meta.dirname, "../bin/trellis.mjs");

type Result = { code: number | null; stdout: string; stderr: string };

function runUp(env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [cli, "up", "--no-build"], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function freePorts(): Promise<NodeJS.ProcessEnv> {
  return {
    TRELLIS_WEB_PORT: String(await findFreePort()),
    TRELLIS_INGEST_PORT: String(await findFreePort()),
    TRELLIS_INGEST_GRPC_PORT: String(await findFreePort()),
    TRELLIS_CONTROL_PLANE_PORT: String(await findFreePort()),
    TRELLIS_GATEWAY_PORT: String(await findFreePort()),
  };
}

describe("trellis up with bad input", () => {
  let occupied: Server;
  let occupiedPort: number;

  beforeAll(async () => {
    occupied = createServer();
    await new Promise<void>((ready) => occupied.listen(0, "127.0.0.1", ready));
    occupiedPort = (occupied.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((done) => occupied.close(() => done())));

  it("names the port in use and the env var that moves it", async () => {
    const result = await runUp({ ...(await freePorts()), TRELLIS_INGEST_PORT: String(occupiedPort), DATABASE_URL: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${occupiedPort} (OTLP/HTTP ingest) is already in use`);
    expect(result.stderr).toContain("set TRELLIS_INGEST_PORT to another port");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("says which DATABASE_URL cannot be reached and why, without a stack trace", async () => {
    const deadPort = await findFreePort();
    const result = await runUp({ ...(await freePorts()), DATABASE_URL: `postgresql://postgres@127.0.0.1:${deadPort}/trellis` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach Postgres at 127.0.0.1:${deadPort}/trellis (from DATABASE_URL): connection refused`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("rejects an invalid port setting naming the variable", async () => {
    const result = await runUp({ ...(await freePorts()), TRELLIS_WEB_PORT: "http" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("TRELLIS_WEB_PORT");
  });
});
