// Checks made before anything starts, so a missing Python or an unbuilt sidecar is one clear line, not a child
// that dies halfway through startup.
import { AppError } from "@trellis/runtime";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

const minimumPython = [3, 7] as const; // ThreadingHTTPServer

export function checkPython(python: string): void {
  const result = spawnSync(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8", timeout: 10_000 });
  const howToFix = `install Python 3 (${minimumPython.join(".")} or newer) or set TRELLIS_PYTHON to its path, e.g. TRELLIS_PYTHON=/usr/bin/python3`;
  if (result.error || result.status !== 0) {
    const why = result.error ? (result.error as NodeJS.ErrnoException).code ?? result.error.message : `exit code ${result.status}`;
    throw new AppError("CONFIG", `catalog-service needs Python 3, but "${python}" could not be run (${why}); ${howToFix}`);
  }
  const [major = 0, minor = 0] = result.stdout.trim().split(".").map(Number);
  if (major !== minimumPython[0] || minor < minimumPython[1]) {
    throw new AppError("CONFIG", `catalog-service needs Python 3, but "${python}" is Python ${result.stdout.trim()}; ${howToFix}`);
  }
}

export function checkSidecarBuilt(entry: string): void {
  if (existsSync(entry)) return;
  throw new AppError(
    "CONFIG",
    `the sidecar is not built: ${entry} does not exist; build it with \`cd apps/sidecar && node ../../scripts/build-node-app.mjs\` or set TRELLIS_SIDECAR_ENTRY to the sidecar's dist/main.js`,
  );
}

/** Every planned port must be free, or a child would fail halfway through startup with a less helpful message. */
export async function checkPortsFree(ports: readonly { port: number; what: string }[]): Promise<void> {
  const busy: string[] = [];
  await Promise.all(
    ports.map(async ({ port, what }) => {
      if (!(await canBind(port))) busy.push(`${port} for ${what}`);
    }),
  );
  if (busy.length === 0) return;
  throw new AppError(
    "CONFIG",
    `ports already in use on 127.0.0.1: ${busy.sort().join(", ")}; is another demo running? stop it, or move the demo with the env var named beside each port`,
  );
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
