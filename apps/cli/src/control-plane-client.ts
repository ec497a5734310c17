// The CLI's one way to talk to the control plane's REST API: clear errors when it cannot be reached, and its 4xx
// answers turned back into AppErrors whose message is the control plane's own (already written for the user).
import { AppError, type AppErrorCode } from "@trellis/runtime";
import { env } from "./env.ts";

/** Applies with `wait` take up to 10 s on the control plane; leave room for that. */
const TIMEOUT_MS = 30_000;

const codeByStatus: Record<number, AppErrorCode> = { 400: "BAD_REQUEST", 404: "NOT_FOUND", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE" };

export type RequestOptions = { method?: "GET" | "POST"; body?: unknown };

export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  return (await response.json()) as T;
}

export async function requestText(path: string, options: RequestOptions = {}): Promise<string> {
  const response = await send(path, options);
  return response.text();
}

/** The control plane's answer whatever its status; throws only when it cannot be reached. */
export async function requestResponse(path: string, { method = "GET", body }: RequestOptions = {}): Promise<Response> {
  const url = `${env.TRELLIS_CONTROL_PLANE_URL}${path}`;
  try {
    return await fetch(url, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AppError(
      "UNAVAILABLE",
      `cannot reach the control plane at ${env.TRELLIS_CONTROL_PLANE_URL} (${reason}); is \`trellis up\` running? Set TRELLIS_CONTROL_PLANE_URL to point elsewhere`,
    );
  }
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const response = await requestResponse(path, options);
  if (response.ok) return response;
  const method = options.method ?? "GET";
  const text = await response.text();
  const code = codeByStatus[response.status];
  if (code) throw new AppError(code, readError(text));
  throw new AppError("UNAVAILABLE", `the control plane answered ${response.status} for ${method} ${path}: ${readError(text)}`);
}

function readError(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    return typeof body.error === "string" ? body.error : text;
  } catch {
    return text;
  }
}
