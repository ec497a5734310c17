// The policy store's SQL against a real Postgres: revisions and versions written together, reads of the current
// set and of history, the revision check, and two concurrent commits serialized by the advisory lock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "@trellis/runtime";
import { createTestDatabase, type TestDatabase } from "@trellis/testkit";
import { commitPolicyRevision, type PolicyChange } from "./commit-policy-revision.ts";
import { findMeshRevision, findPolicies, findPolicy } from "./find-policies.ts";
import { findPolicyHistory } from "./find-policy-history.ts";

const ref = { kind: "VirtualService", namespace: "default", name: "reviews" };

function change(weight: number, action: PolicyChange["action"]): PolicyChange {
  return { ...ref, apiVersion: "networking.istio.io/v1", metadata: { labels: { team: "shop" } }, spec: { weight }, sourceYaml: `weight: ${weight}\n`, diff: `+weight: ${weight}`, action };
}

describe("policy store", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("starts at revision 0 with no policies", async () => {
    expect(await findPolicies({ prisma: test.db.prisma })).toEqual({ revision: 0, policies: [] });
    expect(await findPolicy({ prisma: test.db.prisma, ...ref })).toBeNull();
  });

  it("cuts a revision per commit and a version per changed policy", async () => {
    const first = await commitPolicyRevision({
      prisma: test.db.prisma,
      expectRevision: 0,
      plan: () => ({ revision: { operation: "apply", author: "alice", sourceYaml: "all: 1", changes: [change(90, "created")] }, detail: "first" }),
    });
    expect(first).toMatchObject({ revision: 1, previousRevision: 0, committed: true, detail: "first", changes: [{ ...ref, action: "created", version: 1 }] });
    const second = await commitPolicyRevision({
      prisma: test.db.prisma,
      plan: () => ({ revision: { operation: "apply", author: "bob", sourceYaml: "all: 2", changes: [change(80, "updated")] }, detail: null }),
    });
    expect(second).toMatchObject({ revision: 2, committed: true, changes: [{ action: "updated", version: 2 }] });

    const current = await findPolicies({ prisma: test.db.prisma });
    expect(current.revision).toBe(2);
    expect(current.policies).toEqual([
      expect.objectContaining({ ...ref, spec: { weight: 80 }, metadata: { labels: { team: "shop" } }, version: 2, revision: 2, author: "bob", sourceYaml: "weight: 80\n" }),
    ]);
    const revisionRow = await test.db.prisma.policyRevision.findUnique({ where: { revision: 2 } });
    expect(revisionRow).toMatchObject({ operation: "apply", author: "bob", sourceYaml: "all: 2", changes: [{ ...ref, action: "updated", version: 2 }] });

    const history = await findPolicyHistory({ prisma: test.db.prisma, ...ref });
    expect(history?.currentVersion).toBe(2);
    expect(history?.versions.map((v) => [v.version, v.revision, v.action, v.author, v.diff])).toEqual([
      [2, 2, "updated", "bob", "+weight: 80"],
      [1, 1, "created", "alice", "+weight: 90"],
    ]);
  });

  it("writes nothing when the plan has no changes, or on a dry run", async () => {
    const empty = await commitPolicyRevision({
      prisma: test.db.prisma,
      plan: () => ({ revision: { operation: "apply", author: "carol", sourceYaml: "", changes: [] }, detail: null }),
    });
    expect(empty).toMatchObject({ revision: 2, committed: false, changes: [] });
    const dry = await commitPolicyRevision({
      prisma: test.db.prisma,
      dryRun: true,
      plan: () => ({ revision: { operation: "apply", author: "carol", sourceYaml: "", changes: [change(70, "updated")] }, detail: null }),
    });
    expect(dry).toMatchObject({ revision: 2, committed: false });
    expect(await findMeshRevision({ prisma: test.db.prisma })).toBe(2);
    expect((await findPolicy({ prisma: test.db.prisma, ...ref }))?.version).toBe(2);
  });

  it("refuses a commit that expected another revision, and writes nothing when the plan throws", async () => {
    const conflict = await commitPolicyRevision({
      prisma: test.db.prisma,
      expectRevision: 1,
      plan: () => ({ revision: { operation: "apply", author: "x", sourceYaml: "", changes: [change(1, "updated")] }, detail: null }),
    }).catch((error: unknown) => error);
    expect(isAppError(conflict) && conflict.code).toBe("CONFLICT");
    expect((conflict as Error).message).toBe("conflict: the mesh is at revision 2, you expected 1; re-read with trellis get policies and retry");

    const aborted = await commitPolicyRevision({
      prisma: test.db.prisma,
      plan: () => {
        throw new Error("invalid");
      },
    }).catch((error: unknown) => error);
    expect((aborted as Error).message).toBe("invalid");
    expect(await findMeshRevision({ prisma: test.db.prisma })).toBe(2);
  });

  it("serializes concurrent commits: with the same expected revision one wins and the other conflicts", async () => {
    const attempt = (weight: number) =>
      commitPolicyRevision({
        prisma: test.db.prisma,
        expectRevision: 2,
        plan: () => ({ revision: { operation: "apply", author: `w${weight}`, sourceYaml: "", changes: [change(weight, "updated")] }, detail: null }),
      }).then(
        (result) => ({ ok: true as const, revision: result.revision }),
        (error: unknown) => ({ ok: false as const, code: isAppError(error) ? error.code : String(error) }),
      );
    const outcomes = await Promise.all([attempt(10), attempt(20)]);
    expect(outcomes).toEqual(expect.arrayContaining([{ ok: true, revision: 3 }, { ok: false, code: "CONFLICT" }]));
    expect((await findPolicyHistory({ prisma: test.db.prisma, ...ref }))?.versions).toHaveLength(3);
  });
});
