// The sidecars registered with the control plane, as the dashboard's mesh panel and `trellis get sidecars` show them: which workload, which
// config version it runs, whether it has caught up with the last push, and whether it is still connected.
import type { PrismaClient } from "../../generated/prisma/client.ts";

export type Sidecar = {
  /** The workload's instance name, e.g. order-service-v2-0. */
  id: string;
  service: string;
  namespace: string;
  version: string;
  mode: string;
  /** host:port of its inbound (mesh) listener: the endpoint other sidecars call. */
  address: string;
  adminUrl: string;
  inboundUrl: string;
  connected: boolean;
  /** The config version the sidecar acknowledged, i.e. the one it runs; null before its first ACK. */
  configVersion: number | null;
  /** The last config version the control plane pushed to it. */
  pushedVersion: number | null;
  /** True when the sidecar runs the last pushed version (nothing pushed counts as caught up). */
  acked: boolean;
  /** The error of its last NACK, if the newest push was refused. */
  lastError: string | null;
  /** When its mesh certificate expires (the CA's last issue to it); null if it never got one. */
  certExpiry: Date | null;
  registeredAt: Date;
  lastSeenAt: Date;
};

export type FindSidecarsOptions = { prisma: PrismaClient };

export async function findSidecars({ prisma }: FindSidecarsOptions): Promise<Sidecar[]> {
  const workloads = await prisma.workload.findMany({
    include: { service: { select: { name: true, namespace: true } } },
    orderBy: [{ service: { namespace: "asc" } }, { service: { name: "asc" } }, { version: "asc" }, { id: "asc" }],
  });
  return workloads.map((workload) => ({
    id: workload.id,
    service: workload.service.name,
    namespace: workload.service.namespace,
    version: workload.version,
    mode: workload.mode,
    address: workload.address,
    adminUrl: workload.adminUrl,
    inboundUrl: workload.inboundUrl,
    connected: workload.connected,
    configVersion: workload.ackedVersion,
    pushedVersion: workload.configVersion,
    acked: workload.configVersion === null || workload.ackedVersion === workload.configVersion,
    lastError: workload.lastError,
    certExpiry: workload.certExpiry,
    registeredAt: workload.registeredAt,
    lastSeenAt: workload.lastSeenAt,
  }));
}
