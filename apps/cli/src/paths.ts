// Where the pieces live in the repository, found from this file so `trellis` works from any directory.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export const entries = {
  ingest: join(repoRoot, "apps/ingest/dist/main.js"),
  controlPlane: join(repoRoot, "apps/control-plane/dist/main.js"),
  demo: join(repoRoot, "apps/demo/dist/main.js"),
  sidecar: join(repoRoot, "apps/sidecar/dist/main.js"),
  webDir: join(repoRoot, "apps/web"),
  next: join(repoRoot, "node_modules/next/dist/bin/next"),
  turbo: join(repoRoot, "node_modules/turbo/bin/turbo"),
};
