// The control plane's configuration, validated once at start; nothing else reads process.env.
import { z } from "zod";
import { AppError } from "@trellis/runtime";

const schema = z.object({
  TRELLIS_CONTROL_PLANE_PORT: z.coerce.number().int().min(0).max(65535).default(15010),
  TRELLIS_CONTROL_PLANE_HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string({ error: "DATABASE_URL is required, e.g. postgres://trellis:trellis@127.0.0.1:5432/trellis" }).min(1),
});

export type ControlPlaneEnv = z.infer<typeof schema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): ControlPlaneEnv {
  // An empty variable (FOO= in a shell or compose file) means "not set", not the number 0.
  const result = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, value]) => value !== "")));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  throw new AppError("CONFIG", `invalid control-plane environment: ${problems}`);
}
