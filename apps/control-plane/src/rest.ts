// The control plane's REST surface (HTTP/1.1 JSON) for the CLI, curl and scripts: health, and the registry as
// stored in Postgres, so what it shows is exactly what the dashboard reads.
import type http from "node:http";
import { findSidecars, type Database, type Sidecar } from "@trellis/db";
import { AppError, isAppError, toPublicMessage } from "@trellis/runtime";

/** A sidecar as GET /v1/sidecars returns it (findSidecars, with its dates as ISO strings). */
export type SidecarView = Omit<Sidecar, "registeredAt" | "lastSeenAt" | "certExpiry"> & { registeredAt: string; lastSeenAt: string; certExpiry: string | null };

export type ServiceView = { name: string; namespace: string; versions: string[]; instances: number; endpoints: string[] };

/** A JSON body, or a string body sent as is with its content type (e.g. exported YAML). */
export type RestResponse = { status: number; body: unknown; contentType?: string };

/** Routes beyond the fixed table (path parameters, request bodies); null when none matches the request. */
export type RestFallback = (req: http.IncomingMessage, url: URL) => Promise<RestResponse> | null;

type Routes = Record<string, (db: Database) => Promise<RestResponse>>;

const routes: Routes = {
  "GET /healthz": async (db) => {
    await db.pool.query("SELECT 1");
    return { status: 200, body: { status: "ok" } };
  },
  // Dates serialise as ISO strings.
  "GET /v1/sidecars": async (db) => ({ status: 200, body: await findSidecars({ prisma: db.prisma }) }),
  "GET /v1/services": async (db) => ({ status: 200, body: await listServices(db) }),
};

export function createRestHandler({
  db,
  log = console,
  fallback,
}: {
  db: Database;
  log?: Pick<Console, "error">;
  fallback?: RestFallback;
}): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://control-plane");
    const path = url.pathname;
    const route = routes[`${req.method ?? "GET"} ${path}`];
    const result: Promise<RestResponse> = route
      ? route(db)
      : (fallback?.(req, url) ??
        Promise.reject(new AppError("NOT_FOUND", `no route ${req.method ?? ""} ${path}; try GET /healthz, /v1/sidecars, /v1/services, /v1/policies or /v1/ca`)));
    result
      .catch((error: unknown) => {
        const status = isAppError(error) ? error.httpStatus : 503;
        if (status >= 500) log.error(`control-plane: ${req.method ?? ""} ${path} failed:`, error);
        // A failing database query means the control plane cannot answer, not that it is broken.
        const message = isAppError(error) ? toPublicMessage(error) : "the control plane cannot reach its database; see its log";
        return { status, body: { error: message } };
      })
      .then((response: RestResponse) => {
        const raw = response.contentType !== undefined && typeof response.body === "string";
        res.writeHead(response.status, { "content-type": response.contentType ?? "application/json" });
        res.end(raw ? response.body : JSON.stringify(response.body));
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
