// `trellis history KIND/NAME [-n NS]`: every version of one policy, newest first, with who made it and its diff.
import { AppError } from "@trellis/runtime";
import { requestJson } from "../control-plane-client.ts";
import { printTable } from "../format.ts";

type History = {
  kind: string;
  namespace: string;
  name: string;
  currentVersion: number;
  versions: Array<{ version: number; revision: number; action: string; author: string; createdAt: string; diff: string }>;
};

export type HistoryOptions = { namespace: string; output: "text" | "json" };

/** `VirtualService/order-service` (kubectl style; the kind in any case, or vs/dr/pa/ap). */
export function parsePolicyRef(value: string): { kind: string; name: string } {
  const [kind, name, ...rest] = value.split("/");
  if (!kind || !name || rest.length > 0) {
    throw new AppError("BAD_REQUEST", `"${value}" is not KIND/NAME, e.g. VirtualService/order-service (the namespace goes in -n)`);
  }
  return { kind, name };
}

export async function runHistory(target: string, { namespace, output }: HistoryOptions): Promise<void> {
  const { kind, name } = parsePolicyRef(target);
  const history = await requestJson<History>(`/v1/policies/${encodeURIComponent(kind)}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/history`);
  if (output === "json") return console.log(JSON.stringify(history, null, 2));
  console.log(`${history.kind} ${history.namespace}/${history.name}: current version ${history.currentVersion}`);
  printTable(
    ["VERSION", "REVISION", "ACTION", "AUTHOR", "DATE"],
    history.versions.map((v) => [v.version, v.revision, v.action, v.author, v.createdAt]),
  );
  for (const v of history.versions) {
    console.log(`\nversion ${v.version} (${v.action} by ${v.author}, revision ${v.revision}):`);
    process.stdout.write(v.diff === "" ? "  (no textual change)\n" : v.diff);
  }
}
