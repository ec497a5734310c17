// Writes each workload's certificate expiry to its row, so `trellis get sidecars` and the dashboard show it. A
// sidecar asks for its certificate and registers on its config stream at the same time, so the row may not exist
// yet when the certificate is issued: the expiry waits in memory until the registration has been written.
import type { Database } from "@trellis/db";
import type { Registry } from "../registry.ts";
import type { WorkloadIdentity } from "./spiffe.ts";

type Pending = { identity: WorkloadIdentity; expiresAt: Date };

export type ExpiryRecorder = { record: (workloadId: string, identity: WorkloadIdentity, expiresAt: Date) => void };

export function createExpiryRecorder({ db, registry, log = console }: { db: Database; registry: Registry; log?: Pick<Console, "error"> }): ExpiryRecorder {
  const pending = new Map<string, Pending>();
  let writing: Promise<void> = Promise.resolve();

  const writePending = () => {
    writing = writing.then(async () => {
      // Registrations are queued writes; once they are flushed, a missing row really is missing (for now).
      await registry.flush();
      for (const [workloadId, entry] of pending) {
        if (entry.expiresAt.getTime() <= Date.now()) {
          pending.delete(workloadId); // never registered while its certificate was valid; nothing to show
          continue;
        }
        try {
          // Only the row of a workload of the certificate's own service: a token cannot touch another's row.
          const { count } = await db.prisma.workload.updateMany({
            where: { id: workloadId, service: { namespace: entry.identity.namespace, name: entry.identity.serviceAccount } },
            data: { certExpiry: entry.expiresAt },
          });
          if (count > 0 && pending.get(workloadId) === entry) pending.delete(workloadId);
        } catch (error) {
          log.error(`control-plane: could not record the certificate expiry of ${workloadId}: ${(error as Error).message}`);
        }
      }
    });
  };
  registry.onChange(() => {
    if (pending.size > 0) writePending();
  });

  return {
    record(workloadId, identity, expiresAt) {
      pending.set(workloadId, { identity, expiresAt });
      writePending();
    },
  };
}
