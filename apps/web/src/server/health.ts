// What /api/health reports: whether the dashboard can reach each thing it depends on (Postgres, ingest, control
// plane), each probe bounded by a short timeout, each failure summed up in a few words an operator can act on.

export type ComponentName = "database" | "ingest" | "controlPlane" | "web";
export type HealthReport = {
  status: "ok" | "degraded";
  components: Record<ComponentName, "up" | "down">;
  /** Why each component that is down is down; absent when everything is up. */
  reasons?: Partial<Record<ComponentName, string>>;
};

export type CheckHealthOptions = {
  /** Resolves when Postgres answers a trivial query. */
  checkDatabase: () => Promise<void>;
  ingestUrl: string;
  controlPlaneUrl: string;
  timeoutMs?: number;
};

const shortReasons: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name could not be resolved",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  "3D000": "database does not exist",
  "28P01": "password authentication failed",
  "28000": "connection rejected by pg_hba.conf",
  "57P03": "database is starting up",
};

class ProbeTimeout extends Error {}

export async function checkHealth({ checkDatabase, ingestUrl, controlPlaneUrl, timeoutMs = 2_000 }: CheckHealthOptions): Promise<HealthReport> {
  const [database, ingest, controlPlane] = await Promise.all([
    probe(() => checkDatabase(), timeoutMs),
    probe(() => checkHttp(new URL("/healthz", ingestUrl), timeoutMs), timeoutMs),
    probe(() => checkHttp(new URL("/healthz", controlPlaneUrl), timeoutMs), timeoutMs),
  ]);
  const results: Record<ComponentName, string | null> = { database, ingest, controlPlane, web: null };
  const components = Object.fromEntries(Object.entries(results).map(([name, reason]) => [name, reason === null ? "up" : "down"])) as HealthReport["components"];
  const reasons = Object.fromEntries(Object.entries(results).filter(([, reason]) => reason !== null)) as HealthReport["reasons"];
  if (Object.keys(reasons ?? {}).length === 0) return { status: "ok", components };
  return { status: "degraded", components, reasons };
}

/** Runs one check; null when it passed, otherwise a short reason. */
async function probe(check: () => Promise<void>, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout()), timeoutMs);
  });
  try {
    await Promise.race([check(), timeout]);
    return null;
  } catch (error) {
    return describeFailure(error, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

async function checkHttp(url: URL, timeoutMs: number): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), cache: "no-store" });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${url.pathname}`);
}

export function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof ProbeTimeout || (error instanceof Error && error.name === "TimeoutError")) return `no answer within ${timeoutMs} ms`;
  // fetch and pg put the system error code on the error or somewhere down its cause chain.
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && shortReasons[code]) return shortReasons[code];
    const nested = (current as { errors?: unknown[] }).errors?.[0];
    current = (current as { cause?: unknown }).cause ?? nested;
  }
  const message = error instanceof Error ? error.message : String(error);
  const firstSentence = message.split(/[;\n]/)[0] ?? message;
  return firstSentence.length > 120 ? `${firstSentence.slice(0, 117)}...` : firstSentence;
}
