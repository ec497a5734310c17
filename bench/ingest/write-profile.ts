// Where Postgres time goes in one telemetry write: the store's statements timed one by one (wall time, one writer,
// so each is Postgres's work plus a loopback round trip), summed per kind over a run of SDK-made 512-span batches.
// `npx tsx bench/ingest/write-profile.ts [--batches N]` against DATABASE_URL's server (a fresh database is made).
import pg from "pg";
import { connectDatabase, createTelemetryStore, migrate } from "@trellis/db";
import { decodeTraceRequest } from "@trellis/otlp";
import { makeTraceBatch } from "./decode.mjs";

const args = process.argv.slice(2);
const batches = Number(args[args.indexOf("--batches") + 1] ?? 0) || 200;
/** --edge-wait-ms 0 records span edges in the write that brings them (ingest waits 10 s, recording them on its ticks). */
const edgeWaitMs = args.includes("--edge-wait-ms") ? Number(args[args.indexOf("--edge-wait-ms") + 1]) : 10_000;
const keep = args.includes("--keep");
const server = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = `trellis_write_profile_${process.pid}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(server);
url.pathname = `/${name}`;
const db = await connectDatabase({ url: url.toString(), source: "the profile database", max: 4 });
try {
  await migrate({ pool: db.pool });
  const timings = new Map<string, { n: number; ms: number }>();
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function timed(this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; constructor: { name: string } };
    const label = (typeof first === "string" ? first : (first.text ?? first.constructor.name)).replace(/\s+/g, " ").slice(0, 60);
    const started = performance.now();
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    const record = () => {
      const t = timings.get(label) ?? { n: 0, ms: 0 };
      t.n += 1;
      t.ms += performance.now() - started;
      timings.set(label, t);
    };
    if (result && typeof (result as Promise<unknown>).then === "function") (result as Promise<unknown>).then(record, record);
    else if (result && typeof (result as NodeJS.EventEmitter).once === "function") (result as NodeJS.EventEmitter).once("finish", record);
    return result;
  } as typeof original;
  const store = createTelemetryStore(db.pool, { edgeWaitMs });
  const made = Array.from({ length: batches + 20 }, (_, b) => decodeTraceRequest(makeTraceBatch(b, Date.now() - 60_000).body, "protobuf").spans);
  for (const spans of made.slice(0, 20)) await store.write({ spans, logs: [], metricPoints: [] });
  timings.clear();
  const started = performance.now();
  for (const spans of made.slice(20)) await store.write({ spans, logs: [], metricPoints: [] });
  const totalMs = performance.now() - started;
  const spans = batches * 512;
  console.log(`${batches} batches of 512 spans, one writer: ${Math.round(spans / (totalMs / 1000))} spans/s, ${((totalMs * 1000) / spans).toFixed(1)} µs wall per span`);
  for (const [label, t] of [...timings].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`${((t.ms * 1000) / spans).toFixed(2).padStart(7)} µs/span  ${String(t.n).padStart(5)}×  ${label}`);
  }
} finally {
  await db.close();
  if (keep) console.log(`kept database ${name}`);
  else await admin.query(`DROP DATABASE ${name}`);
  await admin.end();
}
