// Reads of the current policy set: all of it (the control plane's starting state, `trellis get policies`, the
// dashboard's list) or one policy. The current version is always a policy's newest (a rollback adds a version).
import { readMetadata, type PolicyClient, type PolicyRef, type PolicySet, type StoredPolicy } from "./policy-records.ts";

export type FindPoliciesOptions = { prisma: PolicyClient };

export async function findPolicies({ prisma }: FindPoliciesOptions): Promise<PolicySet> {
  const [rows, latest] = await Promise.all([
    prisma.policy.findMany({
      where: { deleted: false },
      include: { versions: { orderBy: { version: "desc" }, take: 1 } },
      orderBy: [{ kind: "asc" }, { namespace: "asc" }, { name: "asc" }],
    }),
    findMeshRevision({ prisma }),
  ]);
  const policies = rows.flatMap((row) => {
    const current = row.versions[0];
    return current ? [toStoredPolicy(row, current)] : [];
  });
  return { revision: latest, policies };
}

export type FindPolicyOptions = PolicyRef & { prisma: PolicyClient };

export async function findPolicy({ prisma, kind, namespace, name }: FindPolicyOptions): Promise<StoredPolicy | null> {
  const row = await prisma.policy.findUnique({
    where: { kind_namespace_name: { kind, namespace, name } },
    include: { versions: { orderBy: { version: "desc" }, take: 1 } },
  });
  const current = row?.versions[0];
  if (!row || row.deleted || !current) return null;
  return toStoredPolicy(row, current);
}

/** The newest mesh revision, 0 before the first apply. */
export async function findMeshRevision({ prisma }: FindPoliciesOptions): Promise<number> {
  const { _max } = await prisma.policyRevision.aggregate({ _max: { revision: true } });
  return _max.revision ?? 0;
}

type PolicyRow = { kind: string; namespace: string; name: string; updatedAt: Date };
type VersionRow = { apiVersion: string; metadata: unknown; spec: unknown; sourceYaml: string; version: number; revision: number; author: string };

function toStoredPolicy(row: PolicyRow, current: VersionRow): StoredPolicy {
  return {
    kind: row.kind,
    namespace: row.namespace,
    name: row.name,
    apiVersion: current.apiVersion,
    metadata: readMetadata(current.metadata),
    spec: current.spec,
    sourceYaml: current.sourceYaml,
    version: current.version,
    revision: current.revision,
    author: current.author,
    updatedAt: row.updatedAt,
  };
}
