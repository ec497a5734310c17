// The policy store's REST routes (wired into rest.ts as its fallback): apply, list, one policy, history, rollback,
// and Istio export. Path parameters are Kind/namespace/name, matched here because the fixed table is exact-path.
import type http from "node:http";
import { z } from "zod";
import { findPolicies, findPolicy, findPolicyHistory, type Database, type PolicyRef } from "@trellis/db";
import { exportPolicies, exportPolicy, formatIssues } from "@trellis/mesh-config";
import { AppError } from "@trellis/runtime";
import type { RestFallback, RestResponse } from "../rest.ts";
import { normalizeKind, toPolicy } from "./policy-model.ts";
import { PolicyRejectedError, type PolicyService } from "./policy-service.ts";

/** Policy files are small; this bounds what one request can make the control plane buffer. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const author = z.string().trim().min(1, "must not be empty").max(200).optional();
const expectVersion = z.number().int().min(0, "must be a revision number (0 before the first apply)").optional();

const applyBody = z.strictObject({
  yaml: z.string({ error: "is required: the Istio YAML to apply, as a string" }),
  author,
  dryRun: z.boolean().optional(),
  expectVersion,
  wait: z.boolean().optional(),
});

const rollbackBody = z.strictObject({
  to: z.number({ error: "is required: the version to roll back to" }).int().min(1, "must be a version number (1 or more)"),
  author,
  dryRun: z.boolean().optional(),
  expectVersion,
  wait: z.boolean().optional(),
});

const DEFAULT_AUTHOR = "api";

export function createPolicyRoutes({ db, service }: { db: Database; service: PolicyService }): RestFallback {
  return (req, url) => {
    const method = req.method ?? "GET";
    const segments = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
    if (method === "GET" && url.pathname === "/v1/export") return handle(() => exportIstio(db, url));
    if (segments[0] !== "v1" || segments[1] !== "policies") return null;
    const rest = segments.slice(2);

    if (rest.length === 0 && method === "GET") return handle(async () => ({ status: 200, body: await findPolicies({ prisma: db.prisma }) }));
    if (rest.length === 1 && rest[0] === "apply" && method === "POST") {
      return handle(async () => {
        const body = await readJson(req, applyBody);
        const result = await service.apply({ ...body, author: body.author ?? DEFAULT_AUTHOR });
        return { status: 200, body: result };
      });
    }
    if (rest.length < 3 || rest.length > 4) return null;
    const [kind = "", namespace = "", name = "", action] = rest;
    if (rest.length === 3 && method === "GET") return handle(() => getPolicy(db, kind, namespace, name));
    if (action === "history" && method === "GET") {
      return handle(async () => {
        const ref = toRef(kind, namespace, name);
        const history = await findPolicyHistory({ prisma: db.prisma, ...ref });
        if (!history) throw notFound(ref);
        return { status: 200, body: history };
      });
    }
    if (action === "rollback" && method === "POST") {
      return handle(async () => {
        const ref = toRef(kind, namespace, name);
        const body = await readJson(req, rollbackBody);
        return { status: 200, body: await service.rollback({ ...ref, ...body, author: body.author ?? DEFAULT_AUTHOR }) };
      });
    }
    return null;
  };
}

async function getPolicy(db: Database, kind: string, namespace: string, name: string): Promise<RestResponse> {
  const ref = toRef(kind, namespace, name);
  const stored = await findPolicy({ prisma: db.prisma, ...ref });
  if (!stored) throw notFound(ref);
  return { status: 200, body: { ...stored, yaml: exportPolicy(toPolicy(stored)) } };
}

async function exportIstio(db: Database, url: URL): Promise<RestResponse> {
  const format = url.searchParams.get("format") ?? "istio";
  if (format !== "istio") throw new AppError("BAD_REQUEST", `unknown export format "${format}"; the only format is istio (GET /v1/export?format=istio)`);
  const { policies } = await findPolicies({ prisma: db.prisma });
  return { status: 200, body: exportPolicies(policies.map(toPolicy)), contentType: "application/yaml" };
}

function toRef(kind: string, namespace: string, name: string): PolicyRef {
  const known = normalizeKind(kind);
  if (!known) {
    throw new AppError("BAD_REQUEST", `unknown policy kind "${kind}"; use VirtualService, DestinationRule, PeerAuthentication or AuthorizationPolicy`);
  }
  return { kind: known, namespace, name };
}

function notFound({ kind, namespace, name }: PolicyRef): AppError {
  return new AppError("NOT_FOUND", `no ${kind} named ${name} in namespace ${namespace}; list the policies with trellis get policies`);
}

/** Rejected inputs carry every problem, one per line, for clients that print them one by one. */
function handle(run: () => Promise<RestResponse>): Promise<RestResponse> {
  return run().catch((error: unknown) => {
    if (error instanceof PolicyRejectedError) return { status: 400, body: { error: error.message, errors: error.errors } };
    throw error;
  });
}

async function readJson<T>(req: http.IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", `send the request body as JSON (content-type: application/json), not "${type || "none"}"`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `the request body is over ${MAX_BODY_BYTES} bytes; split the policies into several applies`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new AppError("BAD_REQUEST", `the request body is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError("BAD_REQUEST", `invalid request body: ${formatIssues(parsed.error)}`);
  return parsed.data;
}
