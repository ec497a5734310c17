// `npm run bench -- <name>`: runs bench/<name>/main.ts under tsx (workspace packages are TypeScript source).
// Each benchmark writes its results to bench/results/<name>.json and .md and stops by itself.
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(benchDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(benchDir, entry.name, "main.ts")))
  .map((entry) => entry.name);
const [name, ...args] = process.argv.slice(2);

if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(", ")})`);
  process.exit(2);
}

const child = spawn(process.execPath, ["--import", "tsx", join(benchDir, name, "main.ts"), ...args], { stdio: "inherit", cwd: join(benchDir, "..") });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
