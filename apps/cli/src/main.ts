// The `trellis` command line: one subcommand per file under commands/; errors print as one line, not a stack.
import { Command, InvalidArgumentError, Option } from "commander";
import { isAppError } from "@trellis/runtime";
import { runApply, type ApplyOptions } from "./commands/apply.ts";
import { runCheck } from "./commands/check.ts";
import { exportFormats, runExport } from "./commands/export.ts";
import { outputFormats, parseResource, runGet, type OutputFormat } from "./commands/get.ts";
import { runHistory } from "./commands/history.ts";
import { runMigrate } from "./commands/migrate.ts";
import { runRollback, type RollbackOptions } from "./commands/rollback.ts";
import { runUp } from "./commands/up.ts";

const program = new Command("trellis").description("Trellis service mesh").showHelpAfterError();

function parseWhole(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
  return number;
}

const textOrJson = () => new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");

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
  .argument("<resource>", "services | sidecars | policies", (value) => {
    try {
      return parseResource(value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  })
  .addOption(new Option("-o, --output <format>", "output format (yaml: policies as Istio YAML)").choices(outputFormats).default("table"))
  .action((resource: ReturnType<typeof parseResource>, options: { output: OutputFormat }) => runGet(resource, options));


program
  .command("apply")
  .description("validate Istio YAML against the stored policies, store it as a new mesh revision and push it to the sidecars")
  .requiredOption("-f, --file <file>", "Istio YAML (VirtualService, DestinationRule, PeerAuthentication, AuthorizationPolicy); - reads stdin")
  .option("--dry-run", "validate, show each policy's diff and the sidecars it would reach; store and push nothing", false)
  .option("--expect-version <revision>", "refuse (conflict) unless the mesh is still at this revision", parseWhole)
  .option("--no-wait", "return once stored; by default apply waits (up to 10 s) for every changed sidecar and exits 1 unless all ACK")
  .addOption(textOrJson())
  .action((options: ApplyOptions) => runApply(options));

program
  .command("history")
  .description("list a policy's versions, newest first, with author and diff")
  .argument("<KIND/NAME>", "e.g. VirtualService/order-service")
  .option("-n, --namespace <namespace>", "the policy's namespace", "default")
  .addOption(textOrJson())
  .action((target: string, options: { namespace: string; output: "text" | "json" }) => runHistory(target, options));

program
  .command("rollback")
  .description("make an earlier version of a policy current again (as a new version, validated and pushed like an apply)")
  .argument("<KIND/NAME>", "e.g. VirtualService/order-service")
  .requiredOption("--to <version>", "the version to restore (see trellis history)", parseWhole)
  .option("-n, --namespace <namespace>", "the policy's namespace", "default")
  .option("--dry-run", "show the diff and the sidecars it would reach; change nothing", false)
  .option("--expect-version <revision>", "refuse (conflict) unless the mesh is still at this revision", parseWhole)
  .option("--no-wait", "do not wait for the sidecars' ACKs")
  .addOption(textOrJson())
  .action((target: string, options: RollbackOptions) => runRollback(target, options));

program
  .command("export")
  .description("print the current policies as Istio YAML (re-applying it changes nothing)")
  .addOption(new Option("--format <format>", "output format").choices(exportFormats).default("istio"))
  .action((options: { format: string }) => runExport(options));

program
  .command("check")
  .description("exit 1 unless every connected sidecar runs its latest config (no NACKs) and holds a valid mesh certificate")
  .action(() => runCheck());

program.command("migrate").description("apply database migrations to DATABASE_URL").action(() => runMigrate());

try {
  await program.parseAsync();
} catch (error) {
  console.error(`trellis: ${isAppError(error) ? error.message : (error as Error).stack ?? String(error)}`);
  process.exit(1);
}
