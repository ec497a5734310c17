// The current policy set in memory, which every push reads: loaded from Postgres at start and advanced after each
// committed apply or rollback. Only a newer revision replaces it, so two applies finishing out of order cannot
// leave the older set in place.
import { findPolicies, type Database } from "@trellis/db";
import type { Policy } from "@trellis/mesh-config";
import { toPolicy } from "./policy-model.ts";

export type PolicyState = {
  revision: () => number;
  policies: () => readonly Policy[];
  /** Installs the set of `revision` if it is newer than the current one; says whether it did. */
  advance: (revision: number, policies: readonly Policy[]) => boolean;
};

export async function loadPolicyState(db: Database): Promise<PolicyState> {
  const stored = await findPolicies({ prisma: db.prisma });
  let current = { revision: stored.revision, policies: stored.policies.map(toPolicy) as readonly Policy[] };
  return {
    revision: () => current.revision,
    policies: () => current.policies,
    advance(revision, policies) {
      if (revision <= current.revision) return false;
      current = { revision, policies };
      return true;
    },
  };
}
