// Prisma CLI config; the schema and migrations live at the repository root (the design fixes `prisma/`).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "../../prisma/schema.prisma",
  migrations: { path: "../../prisma/migrations" },
});
