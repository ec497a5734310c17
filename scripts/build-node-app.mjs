// Bundles one Node app (src/main.ts → dist/main.js) with esbuild. Workspace packages (@trellis/*) are TypeScript
// source and get bundled in; every other import stays external and is loaded from node_modules at run time, except
// the pure-JS packages the app's package.json lists under "trellis": { "bundle": [...] } (the sidecar bundles zod:
// loading its ~80 ESM files at run time costs a process ~7 MB of RSS more than the same code bundled).
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";

const entry = process.argv[2] ?? "src/main.ts";
if (!existsSync(entry)) {
  console.error(`build-node-app: ${entry} not found in ${process.cwd()}`);
  process.exit(1);
}

const bundled = new Set(JSON.parse(readFileSync("package.json", "utf8")).trellis?.bundle ?? []);
const packageName = (specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

await build({
  entryPoints: [entry],
  outfile: "dist/main.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Resolve externals the way Node will load them (e.g. @opentelemetry/api's "node" build, not its bundler-only ESM).
  conditions: ["node"],
  sourcemap: true,
  logLevel: "warning",
  banner: { js: "import { createRequire as __trellisRequire } from 'node:module'; const require = __trellisRequire(import.meta.url);" },
  plugins: [
    {
      name: "externalize-npm-packages",
      setup(b) {
        // npm may nest a dependency under the workspace that declares it (packages/db/node_modules/...), where
        // a bare import from dist/ would not find it, so externals point at the file esbuild resolved.
        b.onResolve({ filter: /^[^./]/ }, async (args) => {
          if (args.path.startsWith("@trellis/") || args.pluginData === "resolving" || bundled.has(packageName(args.path))) return undefined;
          if (args.path.startsWith("node:")) return { path: args.path, external: true };
          const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "resolving" });
          if (resolved.errors.length > 0 || !resolved.path) return { path: args.path, external: true };
          return { path: resolved.path, external: true };
        });
      },
    },
  ],
});
