// `trellis export --format istio`: the current policies as Istio YAML on stdout (re-applying it changes nothing).
import { AppError } from "@trellis/runtime";
import { requestText } from "../control-plane-client.ts";

export const exportFormats = ["istio"] as const;

export async function runExport({ format }: { format: string }): Promise<void> {
  if (!(exportFormats as readonly string[]).includes(format)) throw new AppError("BAD_REQUEST", `unknown format "${format}"; use --format istio`);
  process.stdout.write(await requestText(`/v1/export?format=${encodeURIComponent(format)}`));
}
