// Runs the demo's child processes: output prefixed with who wrote it, exits reported, and a stop that always ends
// with every child gone (SIGTERM, then SIGKILL after a grace period) so nothing is left holding a port.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { ChildSpec } from "./commands.ts";

export type ChildExit = { code: number | null; signal: NodeJS.Signals | null };

export type ManagedChild = {
  spec: ChildSpec;
  process: ChildProcess;
  /** Resolves when the process has exited (or failed to start: then code is null and `error` is set). */
  exited: Promise<ChildExit & { error?: Error }>;
  isRunning: () => boolean;
};

export function spawnChild(spec: ChildSpec, labelWidth: number): ManagedChild {
  // Its own process group: a terminal's Ctrl-C reaches only the launcher, which then stops children in order,
  // and a signal to the group also reaches anything the child started.
  const child = spawn(spec.command, spec.args, { env: spec.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const prefix = `${spec.label.padEnd(labelWidth)} | `;
  if (child.stdout) pipeLines(child.stdout, process.stdout, prefix);
  if (child.stderr) pipeLines(child.stderr, process.stderr, prefix);
  let running = true;
  const exited = new Promise<ChildExit & { error?: Error }>((resolve) => {
    child.once("error", (error) => {
      running = false;
      resolve({ code: null, signal: null, error });
    });
    child.once("exit", (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  return { spec, process: child, exited, isRunning: () => running };
}

function pipeLines(from: Readable, to: Writable, prefix: string): void {
  createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) => to.write(`${prefix}${line}\n`));
}

export function describeExit(exit: ChildExit & { error?: Error }): string {
  if (exit.error) return `could not start: ${exit.error.message}`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? "unknown"}`;
}

export function signalChild(child: ManagedChild, signal: NodeJS.Signals): void {
  if (!child.isRunning() || child.process.pid === undefined) return;
  try {
    process.kill(-child.process.pid, signal);
  } catch {
    // The group is already gone (the child exited between the check and the kill).
  }
}

/** SIGTERM to all, SIGKILL to whoever is still there after `graceMs`; resolves once all have exited. */
export async function stopChildren(children: readonly ManagedChild[], graceMs = 3000): Promise<void> {
  for (const child of children) signalChild(child, "SIGTERM");
  const allExited = Promise.all(children.map((c) => c.exited));
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<"grace-over">((resolve) => {
    timer = setTimeout(() => resolve("grace-over"), graceMs);
  });
  const first = await Promise.race([allExited, graceOver]);
  clearTimeout(timer);
  if (first !== "grace-over") return;
  for (const child of children) {
    if (!child.isRunning()) continue;
    console.error(`demo: ${child.spec.label} did not stop within ${graceMs} ms of SIGTERM; sending SIGKILL`);
    signalChild(child, "SIGKILL");
  }
  await allExited;
}
