// The mesh CA's HTTP/1.1 endpoints on the control plane's REST port:
//   GET  /v1/ca            the trust domain and root (fingerprint, expiry, PEM), for `trellis check` and sidecars;
//   POST /v1/certificates  { csr, token, workload? } → { certificateChain: [leaf, root], expiresAt };
//   POST /v1/join-tokens   { namespace, service, ttl? } with `Authorization: Bearer <join secret>` → { token, ... }.
// Join tokens are minted here rather than by whoever holds the secret, so the token format and its signing stay
// in one module and a launcher (the demo, a script with curl) needs no control-plane code to make them.
import type http from "node:http";
import { z } from "zod";
import type { ExpiryRecorder } from "./cert-expiry.ts";
import { parseDuration } from "@trellis/mesh-config";
import { NO_SECRET, type MeshCa } from "./mesh-ca.ts";
import { NAME_PATTERN } from "./spiffe.ts";

const MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_JOIN_TOKEN_TTL = "24h";

type Reply = { status: number; body: unknown };

const certificateRequestSchema = z.object({
  csr: z.string({ error: "csr is required: the PEM of a PKCS#10 certificate request" }).min(1),
  token: z.string({ error: "token is required: the sidecar's join token (TRELLIS_JOIN_TOKEN)" }).min(1),
  workload: z.string().min(1).optional(),
});

const name = z.string().regex(NAME_PATTERN, "must be lowercase letters, digits and '-', e.g. order-service");
const joinTokenRequestSchema = z.object({ namespace: name.default("default"), service: name, ttl: z.string().default(DEFAULT_JOIN_TOKEN_TTL) });

/** Answers the CA's routes; returns false for any other path so the REST handler can take it. */
export type CaRequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export function createCaHandler({ ca, expiry, log = console }: { ca: MeshCa | null; expiry: ExpiryRecorder | null; log?: Pick<Console, "info" | "error"> }): CaRequestHandler {
  const routes: Record<string, (req: http.IncomingMessage) => Promise<Reply>> = {
    "GET /v1/ca": async () => (ca ? { status: 200, body: ca.describe() } : noCa()),
    "POST /v1/certificates": async (req) => {
      if (!ca) return noCa();
      const parsed = certificateRequestSchema.safeParse(await readJson(req));
      if (!parsed.success) return badRequest(parsed.error, "POST /v1/certificates");
      const { csr, token, workload } = parsed.data;
      const outcome = await ca.issue({ csr, token });
      if (!outcome.ok) {
        log.info(`control-plane: refused a certificate${workload ? ` for ${workload}` : ""}: ${outcome.reason}`);
        return { status: outcome.status, body: { error: outcome.reason } };
      }
      const issued = outcome.value;
      if (workload !== undefined) expiry?.record(workload, issued.identity, issued.expiresAt);
      return { status: 200, body: { certificateChain: issued.certificateChain, expiresAt: issued.expiresAt.toISOString(), spiffeId: issued.spiffeId } };
    },
    "POST /v1/join-tokens": async (req) => {
      if (!ca) return noCa();
      if (!ca.acceptsTokens) return { status: 503, body: { error: NO_SECRET } };
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (bearer === undefined || !ca.checkJoinSecret(bearer)) {
        return { status: 401, body: { error: "POST /v1/join-tokens needs `Authorization: Bearer <join secret>` (the control plane's TRELLIS_JOIN_SECRET; `trellis up` keeps it in <TRELLIS_HOME>/join-secret)" } };
      }
      const parsed = joinTokenRequestSchema.safeParse(await readJson(req));
      if (!parsed.success) return badRequest(parsed.error, "POST /v1/join-tokens");
      const ttl = parseDuration(parsed.data.ttl);
      if (!ttl.ok || ttl.ms <= 0) return { status: 400, body: { error: `ttl: ${ttl.ok ? `"${parsed.data.ttl}" is not a positive duration` : ttl.message}` } };
      const minted = ca.mintJoinToken({ namespace: parsed.data.namespace, serviceAccount: parsed.data.service, ttlMs: ttl.ms });
      if (!minted.ok) return { status: minted.status, body: { error: minted.reason } };
      return { status: 200, body: { token: minted.value.token, spiffeId: minted.value.spiffeId, expiresAt: minted.value.expiresAt.toISOString() } };
    },
  };
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://control-plane").pathname;
    const route = routes[`${req.method ?? "GET"} ${path}`];
    if (!route) return false;
    route(req)
      .catch((error: unknown): Reply => {
        if (error instanceof BodyError) return { status: error.status, body: { error: error.message } };
        log.error(`control-plane: ${req.method ?? ""} ${path} failed:`, error);
        return { status: 500, body: { error: "internal error in the mesh CA; see the control plane's log" } };
      })
      .then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    return true;
  };
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, `the request body is over ${MAX_BODY_BYTES} bytes; a CSR is about 500`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BodyError(400, "the request body is not JSON; send a JSON object with content-type application/json");
  }
}

function badRequest(error: z.ZodError, where: string): Reply {
  const problems = error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
  return { status: 400, body: { error: `${where}: ${problems}` } };
}

function noCa(): Reply {
  return { status: 503, body: { error: "this control plane runs without a mesh CA; start it with TRELLIS_CA_DIR (or TRELLIS_CA_CERT_FILE and TRELLIS_CA_KEY_FILE)" } };
}
