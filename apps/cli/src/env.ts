// The CLI's configuration, read once. Ports are the architecture's fixed defaults; each can be moved by its env var.
import { resolve } from "node:path";
import { z } from "zod";

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

const schema = z.object({
  DATABASE_URL: z.string().url().optional(),
  TRELLIS_HOME: z.string().default(".trellis"),
  TRELLIS_WEB_PORT: port(3000),
  TRELLIS_INGEST_PORT: port(4318),
  TRELLIS_INGEST_GRPC_PORT: port(4317),
  TRELLIS_CONTROL_PLANE_PORT: port(15010),
  TRELLIS_GATEWAY_PORT: port(8080),
  TRELLIS_CONTROL_PLANE_URL: z.string().url().optional(),
  TRELLIS_DEMO_RPS: z.coerce.number().positive().default(10),
});

function readEnv() {
  // An empty variable (`DATABASE_URL=`) means unset, as in the other apps.
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    console.error(`trellis: invalid environment — ${problems}`);
    process.exit(2);
  }
  const value = parsed.data;
  return {
    ...value,
    TRELLIS_HOME: resolve(value.TRELLIS_HOME),
    TRELLIS_CONTROL_PLANE_URL: value.TRELLIS_CONTROL_PLANE_URL ?? `http://127.0.0.1:${value.TRELLIS_CONTROL_PLANE_PORT}`,
  };
}

export const env = readEnv();
/** Everything the CLI passes on to the processes it starts (they validate their own env). */
export const inheritedEnv: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1" };
