// The one write path of the policy store. An apply or rollback runs inside a transaction that holds a
// transaction-scoped advisory lock, so mesh revisions are cut one at a time: the caller's plan sees the policy set
// exactly as it will be changed, and a caller that expected an older revision gets a conflict instead of
// overwriting what it never saw.
import { AppError } from "@trellis/runtime";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { findPolicies } from "./find-policies.ts";
import type { PolicyAction, PolicyMetadata, PolicyRef, PolicySet } from "./policy-records.ts";

/** Arbitrary, fixed: the key of the advisory lock that serializes policy revisions ("trel"). */
const POLICY_LOCK_KEY = 0x7472656c;

/** One policy document that differs from what is stored. */
export type PolicyChange = PolicyRef & {
  apiVersion: string;
  metadata: PolicyMetadata;
  /** JSON-serialisable spec, as the policy model produced it. */
  spec: unknown;
  sourceYaml: string;
  diff: string;
  action: PolicyAction;
};

export type RevisionPlan = {
  operation: "apply" | "rollback";
  author: string;
  sourceYaml: string;
  /** Empty when nothing differs: then no revision is cut. */
  changes: PolicyChange[];
};

export type CommittedChange = PolicyRef & { action: PolicyAction; version: number };

export type CommitResult<T> = {
  /** The mesh revision after the call: the new one, or the unchanged current one when nothing changed. */
  revision: number;
  previousRevision: number;
  committed: boolean;
  changes: CommittedChange[];
  /** Whatever the plan returned besides the revision (validation output, the new policy set...). */
  detail: T;
};

export type CommitPolicyRevisionOptions<T> = {
  prisma: PrismaClient;
  /** The revision the caller last saw; a different current revision is a conflict. */
  expectRevision?: number;
  /** Plan (and check the revision) but write nothing. */
  dryRun?: boolean;
  /**
   * Decides what to write from the current set; may throw (an AppError) to abort with nothing written. Runs with the
   * lock held, so keep it to computation.
   */
  plan: (current: PolicySet) => Promise<{ revision: RevisionPlan; detail: T }> | { revision: RevisionPlan; detail: T };
};

export async function commitPolicyRevision<T>({ prisma, expectRevision, dryRun = false, plan }: CommitPolicyRevisionOptions<T>): Promise<CommitResult<T>> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${POLICY_LOCK_KEY})`;
      const current = await findPolicies({ prisma: tx });
      if (expectRevision !== undefined && expectRevision !== current.revision) {
        throw new AppError(
          "CONFLICT",
          `conflict: the mesh is at revision ${current.revision}, you expected ${expectRevision}; re-read with trellis get policies and retry`,
        );
      }
      const { revision: planned, detail } = await plan(current);
      if (planned.changes.length === 0 || dryRun) {
        return { revision: current.revision, previousRevision: current.revision, committed: false, changes: [], detail };
      }
      const revision = current.revision + 1;
      const row = { revision, operation: planned.operation, author: planned.author, sourceYaml: planned.sourceYaml };
      await tx.policyRevision.create({ data: { ...row, changes: [] } });
      const changes: CommittedChange[] = [];
      for (const change of planned.changes) changes.push(await writeVersion(tx, change, revision, planned.author));
      // The summary names the version numbers, which exist only once the versions are written.
      const summary = changes.map(({ kind, namespace, name, action, version }) => ({ kind, namespace, name, action, version }));
      await tx.policyRevision.update({ where: { revision }, data: { changes: summary } });
      return { revision, previousRevision: current.revision, committed: true, changes, detail };
    },
    // Waiting for the lock counts against the timeout: a queue of concurrent applies must not time out.
    { maxWait: 10_000, timeout: 30_000 },
  );
}

async function writeVersion(tx: Prisma.TransactionClient, change: PolicyChange, revision: number, author: string): Promise<CommittedChange> {
  const { kind, namespace, name } = change;
  const policy = await tx.policy.upsert({
    where: { kind_namespace_name: { kind, namespace, name } },
    create: { kind, namespace, name, currentVersion: 1 },
    update: { currentVersion: { increment: 1 }, deleted: false },
    select: { id: true, currentVersion: true },
  });
  await tx.policyVersion.create({
    data: {
      policyId: policy.id,
      version: policy.currentVersion,
      revision,
      apiVersion: change.apiVersion,
      metadata: change.metadata,
      // The policy model's specs are plain JSON values (parsed from YAML); Prisma's input type cannot know that.
      spec: change.spec as Prisma.InputJsonValue,
      sourceYaml: change.sourceYaml,
      diff: change.diff,
      action: change.action,
      author,
    },
  });
  return { kind, namespace, name, action: change.action, version: policy.currentVersion };
}
