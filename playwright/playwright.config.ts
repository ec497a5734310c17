// Browser tests in Debian's Chromium (no browser download): CHROMIUM_PATH, else `chromium` on the PATH.
import { execFileSync } from "node:child_process";
import { defineConfig } from "@playwright/test";

function findChromium(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim().split("\n")[0] ?? "";
  } catch {
    throw new Error("Chromium not found: install Debian's `chromium` package (apt-get install -y chromium) or set CHROMIUM_PATH");
  }
}

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  timeout: 180_000,
  expect: { timeout: 90_000 },
  workers: 1,
  fullyParallel: false,
  reporter: [["list"]],
  use: {
    trace: "off",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: findChromium(),
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
