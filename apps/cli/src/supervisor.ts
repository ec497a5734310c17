// Starts Trellis's processes, waits until each answers, and stops all of them (with their process groups) on
// the way out, so Ctrl-C leaves no orphans. Output goes to .trellis/logs/<name>.log; the last lines are kept in
// memory to explain a failure.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";

export type Component = {
  name: string;
  child: ChildProcess;
  logFile: string;
  tail: () => string;
  exited: Promise<number | null>;
};

export type StartOptions = {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  logDir: string;
  /** Give the child an IPC channel so it can notice when this process dies (runMain exits on `disconnect`). */
  ipc?: boolean;
  verbose?: boolean;
};

export class Supervisor {
  private readonly components: Component[] = [];
  private stopping = false;
  onUnexpectedExit: (component: Component, code: number | null) => void = () => {};

  start({ name, command, args, cwd, env, logDir, ipc = false, verbose = false }: StartOptions): Component {
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: "w" });
    const child = spawn(command, args, {
      cwd,
      env,
      detached: true, // own process group: we signal the whole group, children of children included
      stdio: ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (verbose) process.stdout.write(prefix(name, chunk.toString()));
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    const exited = new Promise<number | null>((resolve) => {
      child.once("error", (error) => {
        lines.push(`could not start ${command}: ${error.message}`);
        resolve(127);
      });
      child.once("exit", (code, signal) => {
        log.end();
        resolve(code ?? (signal ? 128 : null));
      });
    });
    const component: Component = { name, child, logFile, tail: () => lines.slice(-20).join("\n"), exited };
    this.components.push(component);
    void exited.then((code) => {
      if (!this.stopping) this.onUnexpectedExit(component, code);
    });
    return component;
  }

  /** Stops components in reverse start order: SIGTERM to each process group, SIGKILL after `graceMs`. */
  async stopAll(graceMs = 5_000): Promise<void> {
    this.stopping = true;
    for (const component of [...this.components].reverse()) {
      await stopComponent(component, graceMs);
    }
  }
}

async function stopComponent({ child, exited }: Component, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  signalGroup(child.pid, "SIGTERM");
  const timer = setTimeout(() => child.pid && signalGroup(child.pid, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
  // Anything left in the group (a grandchild that ignored SIGTERM) goes too.
  signalGroup(child.pid, "SIGKILL");
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

function prefix(name: string, text: string): string {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => `${name.padEnd(14)}| ${line}\n`)
    .join("");
}

/** Polls `url` until `accept(status)` or the component exits or the deadline passes. */
export async function waitUntilReady(
  component: Component,
  url: string,
  { timeoutMs = 120_000, accept = (status: number): boolean => status === 200 }: { timeoutMs?: number; accept?: (status: number) => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void component.exited.then((code) => {
    exitCode = code;
  });
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new ComponentFailed(component, `exited with code ${exitCode} before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      await response.arrayBuffer();
      if (accept(response.status)) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new ComponentFailed(component, `was not ready at ${url} within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
}

export class ComponentFailed extends Error {
  constructor(
    readonly component: Component,
    reason: string,
  ) {
    super(`${component.name} ${reason}`);
  }
}
