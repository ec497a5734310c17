// The policies procedures as the dashboard calls them (createCaller): reads straight from a seeded, migrated
// database; apply and rollback through a real control plane process on the same database.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { commitPolicyRevision, findFreePort, type PolicyChange } from "@trellis/db";
import { createTestDatabase, startProcess, waitForHttp, type ManagedProcess, type TestDatabase } from "@trellis/testkit";
import { createCaller } from "../root.ts";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const seedYaml = readFileSync(join(repoRoot, "apps/demo/policies/seed-policies.yaml"), "utf8");

const ref = { kind: "DestinationRule", namespace: "shop", name: "reviews" } as const;

function change(maxConnections: number, action: PolicyChange["action"]): PolicyChange {
  return {
    ...ref,
    apiVersion: "networking.istio.io/v1",
    metadata: { labels: { team: "reviews" } },
    spec: { host: "reviews", subsets: [], trafficPolicy: { connectionPool: { tcp: { maxConnections } } } },
    sourceYaml: `# maxConnections ${maxConnections}\n`,
    diff: `+maxConnections: ${maxConnections}\n`,
    action,
  };
}

async function expectTRPCError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error;
}

describe("policies procedures", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
    for (const [author, max, action] of [["alice", 100, "created"], ["bob", 50, "updated"]] as const) {
      await commitPolicyRevision({
        prisma: test.db.prisma,
        plan: () => ({ revision: { operation: "apply", author, sourceYaml: "", changes: [change(max, action)] }, detail: null }),
      });
    }
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("policies.list returns the current policies and the mesh revision", async () => {
    const list = await createCaller({ db: test.db }).policies.list();
    expect(list.revision).toBe(2);
    expect(list.policies).toEqual([
      expect.objectContaining({ ...ref, version: 2, revision: 2, author: "bob", metadata: { labels: { team: "reviews" } }, sourceYaml: "# maxConnections 50\n" }),
    ]);
    expect(list.policies[0]?.updatedAt).toBeInstanceOf(Date);
  });

  it("policies.get returns one policy, and NOT_FOUND names what is missing", async () => {
    const api = createCaller({ db: test.db });
    const policy = await api.policies.get(ref);
    expect(policy.spec).toEqual(change(50, "updated").spec);
    const error = await expectTRPCError(api.policies.get({ kind: "VirtualService", name: "reviews" }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe("no VirtualService named reviews in namespace default");
  });

  it("policies.history lists versions newest first with their diffs", async () => {
    const history = await createCaller({ db: test.db }).policies.history(ref);
    expect(history.currentVersion).toBe(2);
    expect(history.versions.map((v) => [v.version, v.action, v.author, v.diff])).toEqual([
      [2, "updated", "bob", "+maxConnections: 50\n"],
      [1, "created", "alice", "+maxConnections: 100\n"],
    ]);
    expect(history.versions[0]?.createdAt).toBeInstanceOf(Date);
  });

  it("rejects an unknown kind with a message naming the field", async () => {
    const error = await expectTRPCError(createCaller({ db: test.db }).policies.history({ kind: "Gateway" as "VirtualService", name: "x" }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("invalid input: kind: must be VirtualService, DestinationRule, PeerAuthentication or AuthorizationPolicy");
  });

  it("policies.applyYaml says when the control plane cannot be reached", async () => {
    const port = await findFreePort();
    // UNAVAILABLE is logged as well as answered; keep the test output clean.
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    const error = await expectTRPCError(createCaller({ db: test.db, controlPlaneUrl: `http://127.0.0.1:${port}` }).policies.applyYaml({ yaml: seedYaml }));
    const logged = consoleError.mock.calls.length;
    consoleError.mockRestore();
    expect(logged).toBe(1);
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.message).toContain(`cannot reach the control plane at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });
});

describe("policies changes through a real control plane", () => {
  let test: TestDatabase;
  let controlPlane: ManagedProcess;
  let controlPlaneUrl: string;
  let caDir: string;
  beforeAll(async () => {
    test = await createTestDatabase();
    const port = await findFreePort();
    caDir = mkdtempSync(join(tmpdir(), "trellis-api-ca-"));
    controlPlane = startProcess(process.execPath, ["--import", "tsx", join(repoRoot, "apps/control-plane/src/main.ts")], {
      cwd: repoRoot,
      env: { DATABASE_URL: test.url, TRELLIS_CONTROL_PLANE_PORT: String(port), TRELLIS_CA_DIR: caDir },
    });
    controlPlaneUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${controlPlaneUrl}/healthz`, { timeoutMs: 30_000 }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${controlPlane.output()}`);
    });
  });
  afterAll(async () => {
    await controlPlane?.stop();
    await test?.drop();
    if (caDir) rmSync(caDir, { recursive: true, force: true });
  });

  it("policies.applyYaml dry-runs, applies as the dashboard, conflicts on a stale revision, and refuses bad YAML", async () => {
    const api = createCaller({ db: test.db, controlPlaneUrl });
    const dry = await api.policies.applyYaml({ yaml: seedYaml, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, changed: true, revision: 0 });
    expect((await api.policies.list()).revision).toBe(0);

    const applied = await api.policies.applyYaml({ yaml: seedYaml, expectVersion: 0 });
    expect(applied).toMatchObject({ revision: 1, changed: true });
    expect((await api.policies.list()).policies.every((p) => p.author === "dashboard")).toBe(true);

    const conflict = await expectTRPCError(api.policies.applyYaml({ yaml: seedYaml, expectVersion: 0 }));
    expect(conflict.code).toBe("CONFLICT");
    expect(conflict.message).toBe("conflict: the mesh is at revision 1, you expected 0; re-read with trellis get policies and retry");

    const bad = await expectTRPCError(api.policies.applyYaml({ yaml: seedYaml.replace("weight: 90", "weight: 95") }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("spec.http[0].route: weights sum to 105, expected 100");
  });

  it("policies.rollback restores an earlier version as a new one", async () => {
    const api = createCaller({ db: test.db, controlPlaneUrl });
    await api.policies.applyYaml({ yaml: seedYaml.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"), author: "erin" });
    const rolled = await api.policies.rollback({ kind: "VirtualService", name: "order-service", to: 1 });
    expect(rolled.policies).toEqual([expect.objectContaining({ action: "rolled-back", version: 3 })]);
    const history = await api.policies.history({ kind: "VirtualService", name: "order-service" });
    expect(history.versions.map((v) => [v.version, v.action, v.author])).toEqual([
      [3, "rolled-back", "dashboard"],
      [2, "updated", "erin"],
      [1, "created", "dashboard"],
    ]);
    expect(history.versions[0]?.spec).toEqual(history.versions[2]?.spec);
  });
});
