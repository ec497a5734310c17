// Waiting for parts of the mesh to come up: poll a URL until it answers 200, and when it never does, say what
// was last seen (refused, 503, ...) so the reader knows where to look.
import { AppError } from "@trellis/runtime";

export type WaitOptions = { deadlineMs: number; signal: AbortSignal; intervalMs?: number; hint?: string };

export async function waitForOk(what: string, url: string, options: WaitOptions): Promise<void> {
  const { deadlineMs, signal, intervalMs = 200, hint } = options;
  let lastSeen = "no answer yet";
  while (Date.now() < deadlineMs) {
    signal.throwIfAborted();
    try {
      const response = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastSeen = `HTTP ${response.status}`;
    } catch (error) {
      signal.throwIfAborted();
      lastSeen = describeFailure(error);
    }
    await delay(intervalMs, signal);
  }
  const more = hint ? `; ${hint}` : "";
  throw new AppError("UNAVAILABLE", `${what} not ready in time: GET ${url} → ${lastSeen}${more}`);
}

function describeFailure(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "no answer within 2 s";
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error && "code" in cause && cause.code === "ECONNREFUSED") return "connection refused";
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
