// The control plane's configuration, validated once at start; nothing else reads process.env.
import { join, resolve } from "node:path";
import { z } from "zod";
import { parseDuration } from "@trellis/mesh-config";
import { AppError } from "@trellis/runtime";
import type { CaSettings } from "./ca/mesh-ca.ts";
import { TRUST_DOMAIN_PATTERN } from "./ca/spiffe.ts";

const schema = z.object({
  TRELLIS_CONTROL_PLANE_PORT: z.coerce.number().int().min(0).max(65535).default(15010),
  TRELLIS_CONTROL_PLANE_HOST: z.string().min(1).default("127.0.0.1"),
  DATABASE_URL: z.string({ error: "DATABASE_URL is required, e.g. postgres://trellis:trellis@127.0.0.1:5432/trellis" }).min(1),
  // The mesh CA (src/ca): where its root lives, what it issues, and the secret join tokens are signed with.
  TRELLIS_HOME: z.string().min(1).default(".trellis"),
  TRELLIS_CA_DIR: z.string().min(1).optional(),
  TRELLIS_CA_CERT_FILE: z.string().min(1).optional(),
  TRELLIS_CA_KEY_FILE: z.string().min(1).optional(),
  TRELLIS_TRUST_DOMAIN: z.string().regex(TRUST_DOMAIN_PATTERN, "must be lowercase letters, digits, '.', '-' or '_', e.g. cluster.local").default("cluster.local"),
  TRELLIS_CERT_TTL: z
    .string()
    .default("1h")
    .transform((text, ctx) => {
      const parsed = parseDuration(text);
      if (parsed.ok && parsed.ms > 0) return parsed.ms;
      ctx.addIssue({ code: "custom", message: parsed.ok ? `"${text}" is not a positive duration` : parsed.message });
      return z.NEVER;
    }),
  TRELLIS_JOIN_SECRET: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -hex 32`)").optional(),
  // How long a workload whose config stream closed stays an endpoint (0s: removed at once), in Istio's syntax.
  TRELLIS_DISCONNECT_GRACE: z
    .string()
    .default("10s")
    .transform((text, ctx) => {
      const parsed = parseDuration(text);
      if (parsed.ok) return parsed.ms;
      ctx.addIssue({ code: "custom", message: `${parsed.message} (0s removes a disconnected workload at once)` });
      return z.NEVER;
    }),
});

export type ControlPlaneEnv = z.infer<typeof schema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): ControlPlaneEnv {
  // An empty variable (FOO= in a shell or compose file) means "not set", not the number 0.
  const result = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, value]) => value !== "")));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  throw new AppError("CONFIG", `invalid control-plane environment: ${problems}`);
}

/** The mesh CA's settings: the operator's root files when both are given, else the CA directory. */
export function readCaSettings(env: ControlPlaneEnv): CaSettings {
  const { TRELLIS_CA_CERT_FILE: certFile, TRELLIS_CA_KEY_FILE: keyFile } = env;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new AppError("CONFIG", "set both TRELLIS_CA_CERT_FILE and TRELLIS_CA_KEY_FILE (the operator's root certificate and its key), or neither to use TRELLIS_CA_DIR");
  }
  const root: CaSettings["root"] =
    certFile !== undefined && keyFile !== undefined
      ? { kind: "files", certFile: resolve(certFile), keyFile: resolve(keyFile) }
      : { kind: "dir", dir: resolve(env.TRELLIS_CA_DIR ?? join(env.TRELLIS_HOME, "ca")) };
  return { root, trustDomain: env.TRELLIS_TRUST_DOMAIN, certTtlMs: env.TRELLIS_CERT_TTL, joinSecret: env.TRELLIS_JOIN_SECRET };
}
