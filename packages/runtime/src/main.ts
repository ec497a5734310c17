// The common shape of every process's entry point: run, print a clear one-line error on known failures
// (AppError) without a stack-trace wall, and shut down cleanly on SIGINT/SIGTERM.
import { isAppError } from "./app-error.ts";

export type Stop = () => Promise<void> | void;

export function runMain(name: string, start: () => Promise<Stop>): void {
  let stop: Stop | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    try {
      await stop?.();
    } catch (error) {
      console.error(`${name}: error while stopping after ${signal}:`, error);
    }
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // Started by a supervisor with an IPC channel (trellis up): if the supervisor dies, even by SIGKILL, the channel
  // closes and this process stops instead of living on as an orphan.
  if (process.send) process.on("disconnect", () => void shutdown("supervisor exit"));
  start().then(
    (s) => {
      stop = s;
      if (stopping) void s();
    },
    (error: unknown) => {
      if (isAppError(error)) console.error(`${name}: ${error.message}`);
      else console.error(`${name}: failed to start:`, error);
      process.exit(1);
    },
  );
}
