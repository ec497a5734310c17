// The policy commands as people run them: bin/trellis.mjs against an in-process control plane on a real Postgres —
// apply (created, unchanged, refused with every problem on its own line, conflict, dry run), get, export and
// re-apply, history, rollback, and check reporting a NACKing sidecar.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "@trellis/control-plane";
import { encodeLine } from "@trellis/mesh-config";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";

const cli = resolve(import.meta.dirname, "../../bin/trellis.mjs");
const seedFile = resolve(import.meta.dirname, "../../../demo/policies/seed-policies.yaml");

let testDb: TestDatabase;
let controlPlane: ControlPlane;
let dir: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  controlPlane = await startControlPlane({ db: testDb.db, port: 0, log: { info: () => {}, warn: () => {}, error: console.error } });
  dir = mkdtempSync(join(tmpdir(), "trellis-cli-"));
});

afterAll(async () => {
  await controlPlane?.stop();
  await testDb?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Result = { code: number; stdout: string; stderr: string };
type PolicyList = { revision: number; policies: Array<{ kind: string; name: string; spec: { http?: Array<{ route: Array<{ weight: number }> }> } }> };

function trellis(...args: string[]): Promise<Result> {
  const env = { ...process.env, TRELLIS_CONTROL_PLANE_URL: `http://127.0.0.1:${controlPlane.port}` };
  return new Promise((done) => {
    execFile(process.execPath, [cli, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const canary = (v1: number, v2: number, subset2 = "v2") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: order-service
spec:
  hosts: [order-service]
  http:
  - route:
    - destination: { host: order-service, subset: v1 }
      weight: ${v1}
    - destination: { host: order-service, subset: ${subset2} }
      weight: ${v2}
`;

describe("trellis policy commands", () => {
  it("applies the seed and prints what it created and the revision", async () => {
    const result = await trellis("apply", "-f", seedFile);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("created     VirtualService default/order-service (now version 1)");
    expect(result.stdout).toContain("created     PeerAuthentication istio-system/default (now version 1)");
    expect(result.stdout).toContain("revision 1 (was 0)");
  });

  it("refuses a bad file with each problem on its own line and exit 1", async () => {
    const result = await trellis("apply", "-f", file("bad.yaml", canary(100, 10, "v3")));
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")).toEqual([
      "trellis: the policies were not applied (2 problems; nothing was stored or pushed):",
      "document 1 (VirtualService order-service) spec.http[0].route: weights sum to 110, expected 100",
      'document 1 (VirtualService order-service) spec.http[0].route[1].destination: subset "v3" is not defined by any DestinationRule for order-service',
      "",
    ]);
  });

  it("refuses a stale --expect-version with the conflict message", async () => {
    const result = await trellis("apply", "-f", file("canary.yaml", canary(80, 20)), "--expect-version", "0");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("trellis: conflict: the mesh is at revision 1, you expected 0; re-read with trellis get policies and retry\n");
  });

  it("dry-runs a change: the diff and the revision it would cut, nothing stored", async () => {
    const result = await trellis("apply", "-f", join(dir, "canary.yaml"), "--dry-run");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("dry run: nothing was stored or pushed");
    expect(result.stdout).toContain("updated     VirtualService default/order-service (would be version 2)");
    expect(result.stdout).toMatch(/^\+\s+weight: 80$/m);
    expect(result.stdout).toContain("would cut revision 2 (the mesh is at revision 1)");
    const listed = await trellis("get", "policies", "-o", "json");
    expect(JSON.parse(listed.stdout)).toMatchObject({ revision: 1 });
  });

  it("exports Istio YAML that re-applies as unchanged", async () => {
    const exported = await trellis("export", "--format", "istio");
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain("kind: DestinationRule");
    const result = await trellis("apply", "-f", file("exported.yaml", exported.stdout));
    expect(result.code).toBe(0);
    expect(result.stdout.match(/^unchanged /gm)).toHaveLength(5);
    expect(result.stdout).toContain("no changes; the mesh stays at revision 1");
  });

  it("applies a change, shows it in history, and rolls it back", async () => {
    expect((await trellis("apply", "-f", join(dir, "canary.yaml"), "--expect-version", "1")).stdout).toContain("revision 2 (was 1)");
    const history = await trellis("history", "vs/order-service");
    expect(history.code).toBe(0);
    expect(history.stdout).toContain("VirtualService default/order-service: current version 2");
    expect(history.stdout).toMatch(/^version 2 \(updated by .+, revision 2\):$/m);
    const rollback = await trellis("rollback", "VirtualService/order-service", "--to", "1");
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain("rolled-back VirtualService default/order-service (now version 3)");
    const table = await trellis("get", "policies");
    expect(table.stdout).toMatch(/^VirtualService\s+default\s+order-service\s+3\s+3\s/m);
    const listed = JSON.parse((await trellis("get", "policies", "-o", "json")).stdout) as PolicyList;
    const restored = listed.policies.find((p) => p.kind === "VirtualService" && p.name === "order-service");
    expect(restored?.spec.http?.[0]?.route.map((r) => r.weight)).toEqual([90, 10]);
  });

  it("check exits 1 and names a sidecar that NACKs its config", async () => {
    const session = http2.connect(`http://127.0.0.1:${controlPlane.port}`);
    session.on("error", () => {});
    try {
      const stream = session.request({ ":method": "POST", ":path": "/v1/stream" });
      const node = { id: "web-0", service: "web", namespace: "default", version: "v1", mode: "sidecar", labels: {}, address: "127.0.0.1:39001", inboundUrl: "http://127.0.0.1:39001", adminUrl: "http://127.0.0.1:39002", upstreams: ["order-service"] };
      stream.write(encodeLine({ type: "hello", node }));
      const config = await new Promise<{ version: number; nonce: string }>((done) => {
        let buffered = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          buffered += chunk;
          const line = buffered.split("\n").find((l) => l.startsWith('{"type":"config"'));
          if (line) done(JSON.parse(line) as { version: number; nonce: string });
        });
      });
      stream.write(encodeLine({ type: "nack", version: config.version, nonce: config.nonce, error: "cannot route order-service: test refusal" }));
      let result: Result;
      const deadline = Date.now() + 20_000;
      do {
        result = await trellis("check");
      } while (!result.stdout.includes("test refusal") && Date.now() < deadline);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`web-0: refused config ${config.version} (keeps running nothing): cannot route order-service: test refusal`);
      expect(result.stdout).toContain("certificates not checked: the control plane runs no mesh CA");
    } finally {
      session.destroy();
    }
  });
});
