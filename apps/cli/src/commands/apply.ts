// `trellis apply -f FILE`: send Istio YAML to the control plane, which validates it against the whole stored set,
// cuts a new mesh revision and pushes it; print what changed per policy and, by default, how each sidecar answered.
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { AppError } from "@trellis/runtime";
import { requestJson } from "../control-plane-client.ts";
import { printTable } from "../format.ts";

/** What POST /v1/policies/apply and …/rollback answer (the control plane's ApplyResult). */
export type ApplyResult = {
  revision: number;
  previousRevision: number;
  dryRun: boolean;
  changed: boolean;
  policies: Array<{ kind: string; namespace: string; name: string; action: string; version: number; diff: string }>;
  affectedSidecars: Array<{ id: string; service: string; namespace: string; version: string }>;
  sidecars: Array<{ id: string; service: string; configVersion: number | null; status: "acked" | "nacked" | "disconnected" | "timeout"; error: string | null }> | null;
};

export type ApplyOptions = { file: string; dryRun: boolean; expectVersion?: number; wait: boolean; output: "text" | "json" };

export async function runApply({ file, dryRun, expectVersion, wait, output }: ApplyOptions): Promise<void> {
  const yaml = readInput(file);
  const result = await requestJson<ApplyResult>("/v1/policies/apply", {
    method: "POST",
    body: { yaml, author: currentUser(), dryRun, expectVersion, wait },
  });
  printApplyResult(result, output);
}

/** The OS user, as the author of a revision; scripts without a passwd entry still get a name. */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** Per policy what happened, the revision, then (dry run) the diffs and affected sidecars or (wait) each sidecar's answer. */
export function printApplyResult(result: ApplyResult, output: "text" | "json"): void {
  if (output === "json") {
    console.log(JSON.stringify(result, null, 2));
  } else {
    printText(result);
  }
  const refused = (result.sidecars ?? []).filter((s) => s.status !== "acked");
  // The revision is stored either way; a sidecar that did not take it is still a failure to report in the exit code.
  if (refused.length > 0) process.exitCode = 1;
}

function printText(result: ApplyResult): void {
  if (result.dryRun) console.log("dry run: nothing was stored or pushed");
  for (const p of result.policies) {
    const version = p.action === "unchanged" ? `version ${p.version}` : result.dryRun ? `would be version ${p.version}` : `now version ${p.version}`;
    console.log(`${p.action.padEnd(11)} ${p.kind} ${p.namespace}/${p.name} (${version})`);
  }
  if (result.dryRun) {
    for (const p of result.policies.filter((p) => p.diff !== "")) process.stdout.write(`\n${p.diff}`);
    console.log(result.changed ? `\nwould cut revision ${result.revision + 1} (the mesh is at revision ${result.revision})` : `\nno changes (the mesh stays at revision ${result.revision})`);
    printAffected(result.affectedSidecars);
    return;
  }
  console.log(result.changed ? `revision ${result.revision} (was ${result.previousRevision})` : `no changes; the mesh stays at revision ${result.revision}`);
  if (result.sidecars === null) {
    if (result.changed) printAffected(result.affectedSidecars);
    return;
  }
  if (result.sidecars.length === 0) {
    if (result.changed) console.log("no connected sidecar's config changed");
    return;
  }
  printTable(
    ["SIDECAR", "SERVICE", "CONFIG", "STATUS", "ERROR"],
    result.sidecars.map((s) => [s.id, s.service, s.configVersion ?? "-", s.status === "acked" ? "ACK" : s.status === "nacked" ? "NACK" : s.status, s.error ?? ""]),
  );
  const refused = result.sidecars.filter((s) => s.status !== "acked");
  if (refused.length > 0) console.error(`${refused.length} sidecar(s) did not acknowledge revision ${result.revision}; they keep their last good config (see trellis check)`);
}

function printAffected(sidecars: ApplyResult["affectedSidecars"]): void {
  if (sidecars.length === 0) return console.log("affected sidecars: none");
  console.log(`affected sidecars (${sidecars.length}):`);
  for (const s of sidecars) console.log(`  ${s.id} (${s.namespace}/${s.service} ${s.version})`);
}

function readInput(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw new AppError("BAD_REQUEST", `cannot read ${file}: ${reason}`);
  }
}
