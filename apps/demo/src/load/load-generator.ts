// Drives GET / on the gateway at a fixed rate (open loop: a slow mesh does not slow the offered load, it shows up
// as latency, errors and skips) over keep-alive connections, and prints a one-line summary every 30 s.
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { createSchedule, delayUntilNext, maxInFlight, planTick } from "./schedule.ts";
import { createWindow, formatSummary, recordResponse, type LoadWindow } from "./summary.ts";

export type LoadOptions = {
  target: string;
  rps: number;
  summaryEveryMs?: number;
  requestTimeoutMs?: number;
  log?: (line: string) => void;
};

export type LoadGenerator = { stop: () => void };

export function startLoad(options: LoadOptions): LoadGenerator {
  const { target, rps, summaryEveryMs = 30_000, requestTimeoutMs = 15_000, log = console.log } = options;
  const url = new URL(target);
  const cap = maxInFlight(rps);
  const agent = new Agent({ keepAlive: true, maxSockets: cap });
  let schedule = createSchedule(rps, performance.now());
  let window: LoadWindow = createWindow(performance.now());
  let inFlight = 0;
  let stopped = false;
  let tickTimer: NodeJS.Timeout | undefined;

  const fire = () => {
    inFlight++;
    const startedMs = performance.now();
    let settled = false;
    const settle = (status: number | undefined) => {
      if (settled) return;
      settled = true;
      inFlight--;
      if (stopped) return;
      if (status === undefined) window.errors++;
      else recordResponse(window, status, performance.now() - startedMs);
    };
    const req = request(url, { agent, method: "GET", headers: { "user-agent": "trellis-demo-load" } }, (res) => {
      res.on("end", () => settle(res.statusCode ?? 0));
      res.on("error", () => settle(undefined));
      res.resume();
    });
    req.setTimeout(requestTimeoutMs, () => req.destroy(new Error(`no response within ${requestTimeoutMs} ms`)));
    req.on("error", () => settle(undefined));
    req.end();
  };

  const tick = () => {
    if (stopped) return;
    const plan = planTick(schedule, performance.now());
    schedule = plan.schedule;
    window.skipped += plan.missed;
    for (let i = 0; i < plan.send; i++) {
      if (inFlight >= cap) window.skipped++;
      else fire();
    }
    tickTimer = setTimeout(tick, delayUntilNext(schedule, performance.now()));
  };

  const summaryTimer = setInterval(() => {
    const now = performance.now();
    log(formatSummary(window, now, url.href));
    window = createWindow(now);
  }, summaryEveryMs);

  log(`load: sending GET ${url.href} at ${rps}/s (at most ${cap} in flight); a summary every ${Math.round(summaryEveryMs / 1000)}s`);
  tick();

  return {
    stop: () => {
      stopped = true;
      clearTimeout(tickTimer);
      clearInterval(summaryTimer);
      agent.destroy();
    },
  };
}
