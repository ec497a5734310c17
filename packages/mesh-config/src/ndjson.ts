// Newline-delimited JSON framing for the config stream: bytes arrive in arbitrary chunks, messages are lines.
// Bounded so that a peer that never sends a newline cannot make us buffer without limit.

export const MAX_LINE_CHARS = 16 * 1024 * 1024;

export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

export type LineSplitter = {
  /** Feeds a decoded chunk; returns the complete, non-empty lines it finished. Throws when a line exceeds the bound. */
  push: (chunk: string) => string[];
};

export function createLineSplitter(maxLineChars = MAX_LINE_CHARS): LineSplitter {
  let pending = "";
  return {
    push(chunk) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      if (pending.length > maxLineChars) {
        throw new Error(`a config-stream message is longer than ${maxLineChars} characters without a newline`);
      }
      return parts.map((line) => line.trim()).filter((line) => line !== "");
    },
  };
}
