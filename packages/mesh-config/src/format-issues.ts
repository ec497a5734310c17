// Zod's issues turned into one readable line ("node.id: expected string, received undefined"), because these
// messages end up in NACKs, stream errors and logs where a multi-line tree would be cut off.
import type { z } from "zod";

export function formatIssues(error: z.ZodError, prefix = ""): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part !== "").join(".");
      const message = issue.message.replace(/^Invalid input: /, "");
      return path === "" ? message : `${path}: ${message}`;
    })
    .join("; ");
}
