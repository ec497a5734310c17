// The control plane's REST surface (HTTP/1.1 JSON) for the CLI, curl and scripts: health, and the registry as
// stored in Postgres, so what it shows is exactly what the dashboard reads.
import type http from "node:http";
import { findSidecars, type Database, type Sidecar } from "@trellis/db";
import { AppError, isAppError, toPublicMessage } from "@trellis/runtime";

/** A sidecar as GET /v1/sidecars returns it (findSidecars, with its dates as ISO strings). */
export type SidecarView = Omit<Sidecar, "registeredAt" | "lastSeenAt"> & { registeredAt: string; lastSeenAt: string };

export type ServiceView = { name: string; namespace: string; versions: string[]; instances: number; endpoints: string[] };

type Routes = Record<string, (db: Database) => Promise<{ status: number; body: unknown }>>;

const routes: Routes = {
  "GET /healthz": async (db) => {
    await db.pool.query("SELECT 1");
    return { status: 200, body: { status: "ok" } };
  },
  // Dates serialise as ISO strings.
  "GET /v1/sidecars": async (db) => ({ status: 200, body: await findSidecars({ prisma: db.prisma }) }),
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
