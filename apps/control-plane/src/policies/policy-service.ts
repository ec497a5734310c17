// Applies and rollbacks: parse, merge with the stored set and validate it whole, cut one mesh revision with a
// version per changed policy (serialized in Postgres, optimistic on the revision the caller saw), then hand the new
// set to the push loop and, if asked, wait for the sidecars it changed to answer.
import { commitPolicyRevision, findPolicyHistory, type Database, type PolicyChange, type PolicyRef, type PolicySet } from "@trellis/db";
import { diffPolicies, exportPolicy, formatPolicyError, parsePolicies, type Policy, type RegisteredWorkload } from "@trellis/mesh-config";
import { AppError } from "@trellis/runtime";
import { toRegisteredWorkload, type Pusher } from "../push.ts";
import type { Registry } from "../registry.ts";
import { findAffectedWorkloads, mergeAndValidate, refKey, samePolicy, toChange, toPolicy } from "./policy-model.ts";
import type { PolicyState } from "./policy-state.ts";
import { createReplyTracker, type ReplyTracker } from "./reply-tracker.ts";
import type { AffectedSidecar, ApplyResult, PolicyOutcome } from "./types.ts";

/** How long an apply with `wait` waits for the push and the sidecars' answers. */
export const WAIT_TIMEOUT_MS = 10_000;
/** How long an apply without `wait` waits for its push to go out (to name the sidecars it reached). */
const ROUND_TIMEOUT_MS = 1_000;

/** A rejected policy input: every problem, each on its own line, path-precise. Nothing was stored or pushed. */
export class PolicyRejectedError extends AppError {
  readonly errors: string[];
  constructor(errors: string[], headline = "the policies were not applied") {
    const count = errors.length === 1 ? "1 problem" : `${errors.length} problems`;
    super("BAD_REQUEST", `${headline} (${count}; nothing was stored or pushed):\n${errors.join("\n")}`);
    this.errors = errors;
  }
}

export type ApplyInput = { yaml: string; author: string; dryRun?: boolean; expectVersion?: number; wait?: boolean };

export type RollbackInput = PolicyRef & { to: number; author: string; dryRun?: boolean; expectVersion?: number; wait?: boolean };

export type PolicyService = {
  apply: (input: ApplyInput) => Promise<ApplyResult>;
  rollback: (input: RollbackInput) => Promise<ApplyResult>;
};

export type PolicyServiceOptions = { db: Database; registry: Registry; pusher: Pusher; state: PolicyState; tracker?: ReplyTracker; waitTimeoutMs?: number };

/** One document to apply: the policy and the YAML it came from. */
type Document = { policy: Policy; sourceYaml: string };

type Submission = {
  documents: Document[];
  operation: "apply" | "rollback";
  sourceYaml: string;
  author: string;
  dryRun: boolean;
  expectVersion: number | undefined;
  wait: boolean;
};

export function createPolicyService({
  db,
  registry,
  pusher,
  state,
  tracker = createReplyTracker(registry),
  waitTimeoutMs = WAIT_TIMEOUT_MS,
}: PolicyServiceOptions): PolicyService {
  async function submit(submission: Submission): Promise<ApplyResult> {
    const { dryRun, expectVersion, wait } = submission;
    const result = await commitPolicyRevision({
      prisma: db.prisma,
      expectRevision: expectVersion,
      dryRun,
      plan: (current) => planRevision(current, submission),
    });
    const { outcomes, existing, merged, changed } = result.detail;
    const versionOf = new Map(result.changes.map((change) => [refKey(change), change.version]));
    const base: ApplyResult = {
      revision: result.revision,
      previousRevision: result.previousRevision,
      dryRun,
      changed,
      policies: outcomes.map((outcome) => ({ ...outcome, version: versionOf.get(refKey(outcome)) ?? outcome.version })),
      affectedSidecars: [],
      sidecars: null,
    };
    // Outside the lock: building every sidecar's snapshot twice is the expensive part of a dry run.
    if (dryRun) return changed ? { ...base, affectedSidecars: findAffected(existing, merged) } : base;
    if (!result.committed) return base;

    state.advance(result.revision, merged);
    return { ...base, ...(await followPush(existing, merged, wait)) };
  }

  /** Runs inside the revision lock: computation only, on the set exactly as it will be changed. */
  function planRevision(current: PolicySet, { documents, operation, sourceYaml, author }: Submission) {
    const existing = current.policies.map(toPolicy);
    const validated = mergeAndValidate(
      existing,
      documents.map((d) => d.policy),
    );
    if (!validated.ok) throw new PolicyRejectedError(validated.errors, operation === "rollback" ? "the rollback was not applied" : undefined);
    const stored = new Map(current.policies.map((p, i) => [refKey(p), { policy: existing[i] as Policy, version: p.version }]));
    const outcomes: PolicyOutcome[] = [];
    const changes: PolicyChange[] = [];
    for (const { policy, sourceYaml: document } of documents) {
      const before = stored.get(refKey(policy));
      const ref = { kind: policy.kind, namespace: policy.namespace, name: policy.name };
      if (before && samePolicy(before.policy, policy)) {
        outcomes.push({ ...ref, action: "unchanged", version: before.version, diff: "" });
        continue;
      }
      const action = operation === "rollback" ? "rolled-back" : before ? "updated" : "created";
      const diff = diffPolicies(before?.policy ?? null, policy);
      outcomes.push({ ...ref, action, version: (before?.version ?? 0) + 1, diff });
      changes.push(toChange(policy, document, diff, action));
    }
    const changed = changes.length > 0;
    return { revision: { operation, author, sourceYaml, changes }, detail: { outcomes, existing, merged: changed ? validated.policies : existing, changed } };
  }

  function findAffected(before: readonly Policy[], after: readonly Policy[]): AffectedSidecar[] {
    const nodes = registry.connections().map((connection) => toRegisteredWorkload(connection.node));
    const workloads = registry.workloads().map(toRegisteredWorkload);
    return findAffectedWorkloads({ nodes, workloads, before, after }).map(toAffectedSidecar);
  }

  /**
   * The push round that carries a committed change: the sidecars it reached are the affected ones (the pusher sends
   * only to those whose snapshot changed, so nothing is built twice), and with `wait`, how each answered.
   */
  async function followPush(before: readonly Policy[], after: readonly Policy[], wait: boolean): Promise<Pick<ApplyResult, "affectedSidecars" | "sidecars">> {
    const deadline = Date.now() + (wait ? waitTimeoutMs : ROUND_TIMEOUT_MS);
    const round = await withDeadline(pusher.nextRound(), deadline);
    if (round === null) {
      // No push went out in time (held back while the previous run's sidecars reconnect): say who will get it.
      const affected = findAffected(before, after);
      return { affectedSidecars: affected, sidecars: wait ? affected.map((s) => ({ ...s, configVersion: null, status: "timeout", error: null })) : null };
    }
    const affectedSidecars = round.pushes.map((push) => toAffectedSidecar(toRegisteredWorkload(push.connection.node)));
    if (!wait) return { affectedSidecars, sidecars: null };
    // The ACKs reach Postgres (and GET /v1/sidecars) through the registry's write queue shortly after; waiting for
    // that queue here would tie the apply's latency to hundreds of row updates.
    return { affectedSidecars, sidecars: await tracker.waitForReplies(round.pushes, Math.max(0, deadline - Date.now())) };
  }

  return {
    async apply({ yaml, author, dryRun = false, expectVersion, wait = false }) {
      const parsed = parsePolicies(yaml);
      if (!parsed.ok) throw new PolicyRejectedError(parsed.errors.map(formatPolicyError));
      if (parsed.policies.length === 0) throw new AppError("BAD_REQUEST", "the input holds no policy documents; give Istio YAML with at least one VirtualService, DestinationRule, PeerAuthentication or AuthorizationPolicy");
      const documents = parsed.policies.map((policy) => ({ policy, sourceYaml: exportPolicy(policy) }));
      return submit({ documents, operation: "apply", sourceYaml: yaml, author, dryRun, expectVersion, wait });
    },

    async rollback({ kind, namespace, name, to, author, dryRun = false, expectVersion, wait = false }) {
      const history = await findPolicyHistory({ prisma: db.prisma, kind, namespace, name });
      if (!history) throw new AppError("NOT_FOUND", `no policy ${kind} ${namespace}/${name}; list them with trellis get policies`);
      const target = history.versions.find((v) => v.version === to);
      if (!target) {
        throw new AppError("NOT_FOUND", `${kind} ${namespace}/${name} has no version ${to}; it has versions 1 to ${history.currentVersion} (see trellis history ${kind}/${name} -n ${namespace})`);
      }
      const policy = toPolicy({ ...target, kind, namespace, name, updatedAt: target.createdAt });
      return submit({ documents: [{ policy, sourceYaml: target.sourceYaml }], operation: "rollback", sourceYaml: target.sourceYaml, author, dryRun, expectVersion, wait });
    },
  };
}

function toAffectedSidecar({ id, service, namespace, version }: RegisteredWorkload): AffectedSidecar {
  return { id, service, namespace, version };
}

/** The promise's value, or null once the deadline (epoch ms) has passed. */
async function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
