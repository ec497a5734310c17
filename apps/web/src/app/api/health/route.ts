// GET /api/health: 200 when the dashboard and everything it needs are up, 503 naming what is down and why.
import { checkHealth } from "../../../server/health.ts";
import { getDatabase } from "../../../server/db.ts";
import { env } from "../../../env.ts";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  const report = await checkHealth({
    checkDatabase: async () => {
      const db = await getDatabase();
      await db.pool.query("SELECT 1");
    },
    ingestUrl: env.TRELLIS_INGEST_URL,
    controlPlaneUrl: env.TRELLIS_CONTROL_PLANE_URL,
  });
  return Response.json(report, { status: report.status === "ok" ? 200 : 503, headers: { "cache-control": "no-store" } });
}
