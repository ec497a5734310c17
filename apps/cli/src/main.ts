// The `trellis` command line: one subcommand per file under commands/; errors print as one line, not a stack.
import { Command, InvalidArgumentError, Option } from "commander";
import { isAppError } from "@trellis/runtime";
import { parseResource, runGet } from "./commands/get.ts";
import { runMigrate } from "./commands/migrate.ts";
import { runUp } from "./commands/up.ts";

const program = new Command("trellis").description("Trellis service mesh").showHelpAfterError();

program
  .command("up")
  .description("start Postgres, migrations, ingest, control plane, dashboard and the demo mesh")
  .option("--no-build", "skip the production build (use the last one)")
  .option("--no-demo", "do not start the demo mesh")
  .option("-v, --verbose", "stream every component's output (otherwise it goes to .trellis/logs)", false)
  .action((options: { build: boolean; demo: boolean; verbose: boolean }) => runUp(options));

program
  .command("get")
  .description("list what the control plane knows")
  .argument("<resource>", "services | sidecars", (value) => {
    try {
      return parseResource(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  })
  .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"))
  .action((resource: ReturnType<typeof parseResource>, options: { output: "table" | "json" }) => runGet(resource, options));

program.command("migrate").description("apply database migrations to DATABASE_URL").action(() => runMigrate());

try {
  await program.parseAsync();
} catch (error) {
  console.error(`trellis: ${isAppError(error) ? error.message : (error as Error).stack ?? String(error)}`);
  process.exit(1);
}
