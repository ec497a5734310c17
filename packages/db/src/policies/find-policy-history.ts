// One policy's versions, newest first, each with what changed and who changed it: `trellis history`, the
// dashboard's history panel, and the control plane's rollback (which re-applies one of them).
import { readAction, readMetadata, type PolicyClient, type PolicyHistory, type PolicyRef } from "./policy-records.ts";

export type FindPolicyHistoryOptions = PolicyRef & { prisma: PolicyClient };

export async function findPolicyHistory({ prisma, kind, namespace, name }: FindPolicyHistoryOptions): Promise<PolicyHistory | null> {
  const row = await prisma.policy.findUnique({
    where: { kind_namespace_name: { kind, namespace, name } },
    include: { versions: { orderBy: { version: "desc" } } },
  });
  if (!row) return null;
  return {
    kind: row.kind,
    namespace: row.namespace,
    name: row.name,
    currentVersion: row.currentVersion,
    versions: row.versions.map((v) => ({
      version: v.version,
      revision: v.revision,
      action: readAction(v.action),
      apiVersion: v.apiVersion,
      metadata: readMetadata(v.metadata),
      spec: v.spec,
      sourceYaml: v.sourceYaml,
      diff: v.diff,
      author: v.author,
      createdAt: v.createdAt,
    })),
  };
}
