// The control plane's REST surface (HTTP/1.1 JSON) for the CLI, curl and scripts: health, and the registry as
// stored in Postgres, so what it shows is exactly what the dashboard reads.
import type http from "node:http";
import type { Database } from "@trellis/db";
import { AppError, isAppError, toPublicMessage } from "@trellis/runtime";

export type SidecarView = {
  id: string;
  service: string;
  namespace: string;
  version: string;
  mode: string;
  address: string;
  adminUrl: string;
  inboundUrl: string;
  connected: boolean;
  /** The last version the sidecar ACKed (the one it runs); null before its first ACK. */
  configVersion: number | null;
  /** The last version pushed to it. */
  pushedVersion: number | null;
  /** True when the sidecar ACKed the last version pushed to it (nothing pushed yet counts as caught up). */
  acked: boolean;
  lastError: string | null;
  registeredAt: string;
  lastSeenAt: string;
};

export type ServiceView = { name: string; namespace: string; versions: string[]; instances: number; endpoints: string[] };

type Routes = Record<string, (db: Database) => Promise<{ status: number; body: unknown }>>;

const routes: Routes = {
  "GET /healthz": async (db) => {
    await db.pool.query("SELECT 1");
    return { status: 200, body: { status: "ok" } };
  },
  "GET /v1/sidecars": async (db) => ({ status: 200, body: await listSidecars(db) }),
  "GET /v1/services": async (db) => ({ status: 200, body: await listServices(db) }),
};

export function createRestHandler({ db, log = console }: { db: Database; log?: Pick<Console, "error"> }): http.RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://control-plane").pathname;
    const route = routes[`${req.method ?? "GET"} ${path}`];
    const result = route
      ? route(db)
      : Promise.reject(new AppError("NOT_FOUND", `no route ${req.method ?? ""} ${path}; try GET /healthz, /v1/sidecars or /v1/services`));
    result
      .catch((error: unknown) => {
        const status = isAppError(error) ? error.httpStatus : 503;
        if (status >= 500) log.error(`control-plane: ${req.method ?? ""} ${path} failed:`, error);
        // A failing database query means the control plane cannot answer, not that it is broken.
        const message = isAppError(error) ? toPublicMessage(error) : "the control plane cannot reach its database; see its log";
        return { status, body: { error: message } };
      })
      .then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
  };
}

export async function listSidecars(db: Database): Promise<SidecarView[]> {
  const workloads = await db.prisma.workload.findMany({
    include: { service: { select: { name: true, namespace: true } } },
    orderBy: [{ service: { namespace: "asc" } }, { service: { name: "asc" } }, { id: "asc" }],
  });
  return workloads.map((w) => ({
    id: w.id,
    service: w.service.name,
    namespace: w.service.namespace,
    version: w.version,
    mode: w.mode,
    address: w.address,
    adminUrl: w.adminUrl,
    inboundUrl: w.inboundUrl,
    connected: w.connected,
    configVersion: w.ackedVersion,
    pushedVersion: w.configVersion,
    acked: w.configVersion === null || w.ackedVersion === w.configVersion,
    lastError: w.lastError,
    registeredAt: w.registeredAt.toISOString(),
    lastSeenAt: w.lastSeenAt.toISOString(),
  }));
}

/** Services with at least one connected workload; endpoints are the addresses of their connected sidecars. */
export async function listServices(db: Database): Promise<ServiceView[]> {
  const services = await db.prisma.service.findMany({
    where: { workloads: { some: { connected: true } } },
    include: { workloads: { where: { connected: true }, select: { version: true, mode: true, address: true }, orderBy: { id: "asc" } } },
    orderBy: [{ namespace: "asc" }, { name: "asc" }],
  });
  return services.map((service) => ({
    name: service.name,
    namespace: service.namespace,
    versions: [...new Set(service.workloads.map((w) => w.version))].sort(),
    instances: service.workloads.length,
    endpoints: service.workloads.filter((w) => w.mode === "sidecar").map((w) => w.address),
  }));
}
