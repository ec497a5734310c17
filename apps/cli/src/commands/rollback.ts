// `trellis rollback KIND/NAME --to N`: make version N of a policy current again, as a new version (validated like an
// apply against the whole set, pushed the same way).
import { requestJson } from "../control-plane-client.ts";
import { currentUser, printApplyResult, type ApplyResult } from "./apply.ts";
import { parsePolicyRef } from "./history.ts";

export type RollbackOptions = { to: number; namespace: string; dryRun: boolean; expectVersion?: number; wait: boolean; output: "text" | "json" };

export async function runRollback(target: string, { to, namespace, dryRun, expectVersion, wait, output }: RollbackOptions): Promise<void> {
  const { kind, name } = parsePolicyRef(target);
  const path = `/v1/policies/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/rollback`;
  const result = await requestJson<ApplyResult>(path, { method: "POST", body: { to, author: currentUser(), dryRun, expectVersion, wait } });
  printApplyResult(result, output);
}
