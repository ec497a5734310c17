// Runs `prisma generate` offline: the CLI insists on a schema-engine binary path even though
// generate never executes it, so point it at an existing file and keep the CLI off the network.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const result = spawnSync(
  process.execPath,
  [createRequire(join(root, "packages/db/package.json")).resolve("prisma/build/index.js"), "generate", "--config", join(root, "packages/db/prisma.config.ts")],
  {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
      CHECKPOINT_DISABLE: "1",
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
    },
  },
);
process.exit(result.status ?? 1);
