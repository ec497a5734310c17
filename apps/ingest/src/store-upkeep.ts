// The store's periodic work: every second, graph edges whose peer span never came are recorded and the last-hour
// rollup window slides; partitions are
// maintained (created ahead, expired ones dropped) at start and hourly. A failure is logged once and retried on
// the next round; it never stops ingest, which keeps answering 503 for writes until Postgres is back.
import type { TelemetryStore } from "@trellis/db";

export type StoreUpkeep = { stop: () => Promise<void> };

const TICK_EVERY_MS = 1_000;
const MAINTAIN_EVERY_MS = 3_600_000;
/** A failed hourly run is not left for an hour: partitions for tomorrow and retention depend on it. */
const RETRY_FAILED_AFTER_MS = 60_000;

export function startStoreUpkeep(store: Pick<TelemetryStore, "tick" | "maintain">): StoreUpkeep {
  const tasks = [
    repeat("recording overdue graph edges and sliding the last-hour window", TICK_EVERY_MS, () => store.tick()),
    repeat("partition maintenance", MAINTAIN_EVERY_MS, async () => {
      const { dropped } = await store.maintain();
      if (dropped.length > 0) console.log(`ingest: retention dropped ${dropped.length} partitions (${dropped.join(", ")})`);
    }),
  ];
  return {
    stop: async () => {
      await Promise.all(tasks.map((task) => task.stop()));
    },
  };
}

/** Runs `task` now and then `intervalMs` after each run ends (sooner after a failure), so two runs never overlap. */
function repeat(what: string, intervalMs: number, task: () => Promise<void>): StoreUpkeep {
  let stopped = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const retryMs = Math.min(intervalMs, RETRY_FAILED_AFTER_MS);
  const run = () => {
    running = task().then(
      () => {
        if (failing) console.log(`ingest: ${what} works again`);
        failing = false;
      },
      (error: unknown) => {
        if (!failing) console.error(`ingest: ${what} failed (retrying every ${retryMs / 1000} s): ${error instanceof Error ? error.message : String(error)}`);
        failing = true;
      },
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(run, failing ? retryMs : intervalMs);
    });
  };
  run();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
