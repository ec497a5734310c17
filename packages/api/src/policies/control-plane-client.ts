// Policy changes go through the control plane, which owns validation against the whole set, the revision lock and
// the push; this posts to its REST API and turns its answers back into AppErrors with its own messages.
import type { z } from "zod";
import { AppError, type AppErrorCode } from "@trellis/runtime";
import type { Context } from "../trpc.ts";

/** Applies with `wait` take up to 10 s on the control plane. */
const TIMEOUT_MS = 30_000;

const codeByStatus: Record<number, AppErrorCode> = { 400: "BAD_REQUEST", 404: "NOT_FOUND", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE" };

/** POSTs `body` as JSON and returns the answer read with `schema`. */
export async function postToControlPlane<T>(ctx: Pick<Context, "controlPlaneUrl">, path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
  const base = ctx.controlPlaneUrl;
  if (base === undefined) {
    throw new AppError("UNAVAILABLE", "this API was started without the control plane's URL (TRELLIS_CONTROL_PLANE_URL), so it cannot change policies");
  }
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AppError("UNAVAILABLE", `cannot reach the control plane at ${base} (${reason}); is it running? (TRELLIS_CONTROL_PLANE_URL)`, { cause: error });
  }
  const text = await response.text();
  const message = readError(text);
  if (response.ok) return schema.parse(JSON.parse(text));
  const code = codeByStatus[response.status];
  if (code) throw new AppError(code, message);
  throw new AppError("UNAVAILABLE", `the control plane at ${base} answered ${response.status} to POST ${path}: ${message}`);
}

function readError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    return typeof body.error === "string" ? body.error : text;
  } catch {
    return text;
  }
}
