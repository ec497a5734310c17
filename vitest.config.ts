// One Vitest run for the monorepo: `unit` is pure logic (*.test.ts), `int` needs a real Postgres and real
// processes (*.int.test.ts). globalSetup provides one Postgres server per run; each test file makes its own database.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{apps,packages}/*/src/**/*.test.{ts,tsx}"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
        },
      },
      {
        test: {
          name: "int",
          include: ["{apps,packages}/*/src/**/*.int.test.ts"],
          globalSetup: ["packages/testkit/src/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      },
    ],
  },
});
