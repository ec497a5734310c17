// Bundles one Node app (src/main.ts → dist/main.js) with esbuild. Workspace packages (@trellis/*) are TypeScript
// source and get bundled in; every other bare import stays external and is loaded from node_modules at run time.
import { build } from "esbuild";
import { existsSync } from "node:fs";

const entry = process.argv[2] ?? "src/main.ts";
if (!existsSync(entry)) {
  console.error(`build-node-app: ${entry} not found in ${process.cwd()}`);
  process.exit(1);
}

await build({
  entryPoints: [entry],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  banner: { js: "import { createRequire as __trellisRequire } from 'node:module'; const require = __trellisRequire(import.meta.url);" },
  plugins: [
    {
      name: "externalize-npm-packages",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@trellis/") ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
