// The sidecar benchmark's process plumbing: the tools it needs from apt, child processes it starts (pinned to a core
// with taskset when asked) and stops, and what /proc says about their CPU time and memory.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { findFreePort } from "@trellis/db";

export const TOOLS = { wrk: "/usr/bin/wrk", nginx: "/usr/sbin/nginx", openssl: "/usr/bin/openssl", taskset: "/usr/bin/taskset" } as const;

/** Stops the run before anything starts when a tool is missing, with the command that installs it. */
export function checkTools(): void {
  const missing = Object.entries(TOOLS).filter(([, path]) => !existsSync(path));
  if (missing.length === 0) return;
  const packages = missing.map(([name]) => (name === "taskset" ? "util-linux" : name));
  throw new Error(`the sidecar benchmark needs ${missing.map(([name, path]) => `${name} (${path})`).join(", ")}: apt-get install -y ${packages.join(" ")}`);
}

export type Child = { name: string; pid: number; child: ChildProcess; logFile: string; stop: () => Promise<string> };

/** Starts `command` (on `cpu` with taskset, which execs it, so the pid is the program's own), output to a log file. */
export function startChild(name: string, command: string, args: string[], options: { cpu?: number; env?: NodeJS.ProcessEnv; logFile: string }): Child {
  const [file, argv] = options.cpu === undefined ? [command, args] : [TOOLS.taskset, ["-c", String(options.cpu), command, ...args]];
  const child = spawn(file, argv, { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  const output = createWriteStream(options.logFile);
  child.stdout?.pipe(output);
  child.stderr?.pipe(output);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    name,
    pid: child.pid ?? 0,
    child,
    logFile: options.logFile,
    /** SIGTERM, SIGKILL after 10 s; says how it ended, e.g. "exit 0 after 212 ms". */
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return `had already ended (${String(child.exitCode ?? child.signalCode)})`;
      const started = Date.now();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
      return `${child.exitCode === null ? `killed by ${String(child.signalCode)}` : `exit ${child.exitCode}`} after ${Date.now() - started} ms`;
    },
  };
}

export function assertRunning(child: Child): void {
  const code = child.child.exitCode ?? child.child.signalCode;
  if (code !== null) throw new Error(`${child.name} exited early (${String(code)}):\n${readFileSync(child.logFile, "utf8").slice(-3_000)}`);
}

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** A process and its children (nginx's workers), so a proxy's CPU and memory include every process it runs. */
export function processTree(pid: number): number[] {
  const children = (() => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  })();
  return [pid, ...children.flatMap(processTree)];
}

export type CpuTime = { user: number; system: number };

/** CPU seconds in user space and in the kernel (on loopback, mostly send and receive) the processes have used so far. */
export function cpuSeconds(pids: number[]): CpuTime {
  const ticks = { user: 0, system: 0 };
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at ") "; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks.user += Number(fields[11]);
    ticks.system += Number(fields[12]);
  }
  return { user: ticks.user / CLOCK_TICKS, system: ticks.system / CLOCK_TICKS };
}

export type Memory = {
  /** VmRSS now and VmHWM (peak RSS). */
  rssMb: number;
  hwmMb: number;
  /** RssAnon: the process's own memory (heap, code it compiled); the rest of RSS is mapped files (the node binary). */
  anonMb: number;
  /** Proportional set size: shared pages (the node binary, libraries) divided among the processes that map them. */
  pssMb: number;
};

/** Memory summed over the processes, in MB. */
export function memoryMb(pids: number[]): Memory {
  const total = { rss: 0, hwm: 0, anon: 0, pss: 0 };
  const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    total.rss += kb(status, "VmRSS");
    total.hwm += kb(status, "VmHWM");
    total.anon += kb(status, "RssAnon");
    total.pss += kb(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"), "Pss");
  }
  return { rssMb: round1(total.rss / 1024), hwmMb: round1(total.hwm / 1024), anonMb: round1(total.anon / 1024), pssMb: round1(total.pss / 1024) };
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true, failing with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`);
}

type Ports<N extends number, T extends number[] = []> = T["length"] extends N ? T : Ports<N, [...T, number]>;

/** Free ports, all different: the kernel may hand the same free port to two probes in a row. */
export async function distinctFreePorts<N extends number>(count: N): Promise<Ports<N>> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await findFreePort());
  return [...ports] as Ports<N>;
}
