// The query goals of issue 5 on a store of realistic size: topology.graph over one hour for 1,000 services / 5,000
// edges (≤150 ms p95) and traces.get with 10M spans stored (≤20 ms p95). The data is made by Postgres itself
// (generate_series): an hour of RED rollups in both tables, with latency histograms drawn from log-normal
// distributions, and a week of traces of ten spans. Each query runs after a warm-up, timed one call at a time.
// Run alone: node bench/ingest/queries.mjs [--spans N]   (DATABASE_URL's server, or an embedded Postgres)
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { tsImport } from "tsx/esm/api";

const SERVICES = 1_000;
/** Each service calls five others: 5,000 edges. */
const CALLEE_OFFSETS = [1, 7, 31, 101, 313];
const NAMESPACES = 10;
const TEMPLATES = 256;
const SPANS_PER_TRACE = 10;
const DAYS = 7;
const WARMUP = { graph: 5, traceGet: 50 };
const RUNS = 200;

/** The workspace's TypeScript modules, loaded through tsx so this file also runs under plain node. */
function loadTs(path) {
  return tsImport(new URL(path, import.meta.url).href, import.meta.url);
}

/** A standard normal deviate (Box–Muller) from a seeded generator, so every run seeds the same data. */
function normal(random) {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Latency histograms as edges have them: log-normal around a median from 2 to 300 ms, 1 to 100 requests per second;
 * `per` is the bucket width in seconds (the request count scales with it).
 */
function makeTemplates(histogram, per) {
  const random = seededRandom(per);
  return Array.from({ length: TEMPLATES }, (_, id) => {
    const median = 2 * 150 ** (id / (TEMPLATES - 1));
    const requests = Math.max(1, Math.round((1 + 99 * random()) * per));
    const counts = histogram.emptyHistogram();
    for (let i = 0; i < requests; i++) histogram.record(counts, median * Math.exp(0.6 * normal(random)));
    return { id, requests, counts };
  });
}

const service = (expr) => `'svc-' || lpad((${expr})::text, 4, '0')`;
const namespace = (expr) => `'ns-' || ((${expr}) % ${NAMESPACES})`;

/** 5,000 edges × the buckets of the last hour, a 2xx row each and a 5xx row for one in ten. */
async function seedRollups(client, histogram, now) {
  await client.query(`CREATE TEMP TABLE bench_edges AS
    SELECT e AS id, s AS src, (s + (ARRAY[${CALLEE_OFFSETS}])[k]) % ${SERVICES} AS dst, CASE WHEN e % 5 = 3 THEN 'grpc' ELSE 'http' END AS protocol
    FROM generate_series(0, ${SERVICES - 1}) s, generate_series(1, ${CALLEE_OFFSETS.length}) k, LATERAL (SELECT (s * ${CALLEE_OFFSETS.length} + k - 1) AS e) ids`);
  for (const [table, per] of [["red_1m", 60], ["red_10s", 10]]) {
    const templates = makeTemplates(histogram, per);
    await client.query(`CREATE TEMP TABLE bench_templates_${per} (id int PRIMARY KEY, requests int, counts int[])`);
    await client.query(
      `INSERT INTO bench_templates_${per} SELECT id, requests, string_to_array(counts, ',')::int[] FROM unnest($1::int[], $2::int[], $3::text[]) AS u(id, requests, counts)`,
      [templates.map((t) => t.id), templates.map((t) => t.requests), templates.map((t) => t.counts.join(","))],
    );
    const buckets = 3600 / per;
    const from = new Date(Math.floor(now / (per * 1000)) * per * 1000 - 3600 * 1000);
    await client.query(
      `INSERT INTO ${table} (bucket, source_namespace, source_service, source_workload, source_version, destination_namespace,
         destination_service, destination_workload, destination_version, protocol, response_class, requests, errors,
         mtls_requests, duration_sum_ms, duration_histogram)
       SELECT $1::timestamptz + b * interval '${per} seconds', ${namespace("e.src")}, ${service("e.src")}, ${service("e.src")} || '-v1', 'v1',
              ${namespace("e.dst")}, ${service("e.dst")}, ${service("e.dst")} || '-v1', 'v1', e.protocol, c.class,
              CASE c.class WHEN '2xx' THEN t.requests ELSE greatest(1, t.requests / 20) END,
              CASE c.class WHEN '2xx' THEN 0 ELSE greatest(1, t.requests / 20) END,
              CASE c.class WHEN '2xx' THEN t.requests ELSE greatest(1, t.requests / 20) END,
              t.requests * 10.0, t.counts
       FROM generate_series(0, ${buckets - 1}) b
       CROSS JOIN bench_edges e
       CROSS JOIN LATERAL (VALUES ('2xx'), ('5xx')) c(class)
       JOIN bench_templates_${per} t ON t.id = (e.id * 31 + b) % ${TEMPLATES}
       WHERE c.class = '2xx' OR (e.id + b) % 10 = 0`,
      [from],
    );
  }
}

/**
 * A week of traces of ten spans (a root, then each span the child of span (j − 1) / 2), spread evenly, with
 * OpenTelemetry HTTP attributes, and each trace's traces row. Written in chunks of traces by two connections at once,
 * so no statement holds millions of rows and both cores work.
 */
async function seedSpans(pool, spans, now) {
  const traces = Math.floor(spans / SPANS_PER_TRACE);
  const stepMs = (DAYS * 86_400_000) / traces;
  const start = now - DAYS * 86_400_000;
  const traceId = "md5('t' || t)";
  const spanId = (j) => `substr(md5('s' || t || '.' || ${j}), 1, 16)`;
  const traceStart = `to_timestamp(${start / 1000} + t * ${stepMs / 1000})`;
  const insertChunk = async (first, last) => {
    await pool.query(
      `INSERT INTO spans (trace_id, span_id, parent_span_id, service_name, service_namespace, service_version, scope_name, name,
         kind, start_time, duration_ns, status_code, http_status_code, attributes, resource_attributes)
       SELECT ${traceId}, ${spanId("j")}, CASE WHEN j = 0 THEN NULL ELSE ${spanId("(j - 1) / 2")} END,
              ${service(`(t * 7 + j) % ${SERVICES}`)}, ${namespace(`(t * 7 + j) % ${SERVICES}`)}, 'v1', 'bench', 'GET /api/v1/items/' || (j % 20),
              CASE WHEN j % 2 = 1 THEN 3 ELSE 2 END, ${traceStart} + j * interval '1 millisecond', (20 - 2 * j) * 1000000 + (t % 997) * 1000,
              CASE WHEN t % 50 = 0 AND j = ${SPANS_PER_TRACE - 1} THEN 2 ELSE 0 END, 200,
              jsonb_build_object('http.request.method', 'GET', 'http.route', '/api/v1/items/' || (j % 20), 'http.response.status_code', 200,
                'url.path', '/api/v1/items/' || (t % 10000), 'server.address', ${service(`(t * 7 + j + 1) % ${SERVICES}`)}, 'server.port', 8080,
                'network.protocol.version', '1.1', 'user_agent.original', 'okhttp/4.12.0', 'client.address', '10.0.' || (t % 250) || '.' || j,
                'trellis.attempt', 1, 'trellis.response_flags', '-', 'http.request.body.size', t % 4096, 'http.response.body.size', 512 + j,
                'trellis.upstream_cluster', 'outbound|8080||' || ${service(`(t * 7 + j + 1) % ${SERVICES}`)}, 'trellis.route', 'default'),
              jsonb_build_object('service.name', ${service(`(t * 7 + j) % ${SERVICES}`)}, 'k8s.pod.name', ${service(`(t * 7 + j) % ${SERVICES}`)} || '-v1-abc12')
       FROM generate_series(${first}, ${last}) t, generate_series(0, ${SPANS_PER_TRACE - 1}) j`,
    );
    await pool.query(
      `INSERT INTO traces (trace_id, day, start_time, end_time, span_count, error_count, root_service, root_name, services, operations)
       SELECT ${traceId}, (${traceStart} AT TIME ZONE 'UTC')::date, ${traceStart}, ${traceStart} + interval '20 milliseconds', ${SPANS_PER_TRACE},
              CASE WHEN t % 50 = 0 THEN 1 ELSE 0 END, ${service(`(t * 7) % ${SERVICES}`)}, 'GET /api/v1/items/0',
              ARRAY(SELECT ${service(`(t * 7 + j) % ${SERVICES}`)} FROM generate_series(0, ${SPANS_PER_TRACE - 1}) j),
              ARRAY(SELECT ${service(`(t * 7 + j) % ${SERVICES}`)} || E'\\x1f' || 'GET /api/v1/items/' || (j % 20) FROM generate_series(0, ${SPANS_PER_TRACE - 1}) j)
       FROM generate_series(${first}, ${last}) t`,
    );
  };
  const chunk = 50_000;
  let next = 0;
  const worker = async () => {
    for (let first = next; first < traces; first = next) {
      next += chunk;
      await insertChunk(first, Math.min(traces, first + chunk) - 1);
    }
  };
  await Promise.all([worker(), worker()]);
}

async function time(run) {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

function percentile(sorted, q) {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10;
}

/**
 * Empties the telemetry tables of `pool`'s database, seeds them, and times topology.graph and traces.get.
 * @param {{ pool: import("pg").Pool, log: (line: string) => void, spans?: number }} options
 */
export async function benchQueries({ pool, log, spans = 10_000_000 }) {
  const [queries, histogram, { PartitionManager, dayOf }, { slideLastHour }] = await Promise.all([
    loadTs("../../packages/db/src/telemetry/queries/index.ts"),
    loadTs("../../packages/db/src/telemetry/latency-histogram.ts"),
    loadTs("../../packages/db/src/telemetry/partitions.ts"),
    loadTs("../../packages/db/src/telemetry/rollups/last-hour.ts"),
  ]);
  const now = Date.now();
  const partitions = new PartitionManager(pool);
  const days = Array.from({ length: DAYS + 2 }, (_, i) => dayOf(now) - DAYS + i);
  for (const table of ["spans", "traces", "red_10s", "red_1m"]) await partitions.ensure(table, days);

  await pool.query("TRUNCATE spans, traces, red_10s, red_1m, red_last_hour");
  await pool.query("UPDATE red_window_state SET from_minute = NULL");
  log(`seeding an hour of rollups: ${SERVICES} services, ${SERVICES * CALLEE_OFFSETS.length} edges…`);
  const client = await pool.connect();
  let seedRollupSeconds;
  try {
    seedRollupSeconds = (await time(() => seedRollups(client, histogram, now))) / 1000;
  } finally {
    client.release();
  }
  log(`seeding ${spans.toLocaleString("en")} spans over ${DAYS} days…`);
  const seedSpansSeconds = (await time(() => seedSpans(pool, spans, now))) / 1000;
  // What ingest's first tick does: build the last-hour window from the minute rollups.
  const buildWindowMs = await time(() => slideLastHour(pool, now));
  log(`red_last_hour built from red_1m in ${Math.round(buildWindowMs)} ms`);
  await pool.query("ANALYZE spans, traces, red_10s, red_1m");
  const rows = (await pool.query("SELECT (SELECT count(*) FROM red_1m) AS m, (SELECT count(*) FROM red_10s) AS s, (SELECT count(*) FROM spans) AS spans")).rows[0];
  log(`seeded in ${Math.round(seedRollupSeconds + seedSpansSeconds)} s: rollups ${Math.round(seedRollupSeconds)} s (${rows.m} rows of 1 min, ${rows.s} of 10 s), spans ${Math.round(seedSpansSeconds)} s (${rows.spans} rows)`);

  const graph = () => queries.findServiceGraph({ pool, windowSeconds: 3600, now: new Date(now) });
  const sample = await graph();
  log(`topology.graph over 1 h: ${sample.nodes.length} nodes, ${sample.edges.length} edges`);
  const traces = Math.floor(spans / SPANS_PER_TRACE);
  const random = seededRandom(42);
  const traceGet = () => queries.findTrace({ pool, traceId: createHash("md5").update(`t${Math.floor(random() * traces)}`).digest("hex") });
  if ((await traceGet()).spanCount !== SPANS_PER_TRACE) throw new Error("traces.get did not find the ten spans of a seeded trace");

  const measure = async (name, run, warmup, runs = RUNS) => {
    for (let i = 0; i < warmup; i++) await run();
    const ms = [];
    for (let i = 0; i < runs; i++) ms.push(await time(run));
    ms.sort((a, b) => a - b);
    const result = { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) };
    log(`${name}: p50 ${result.p50} ms, p95 ${result.p95} ms (${runs} calls after ${warmup} warm-up)`);
    return result;
  };
  const graphMs = await measure("topology.graph 1 h", graph, WARMUP.graph);
  // An hour that does not end now (an incident an hour ago) reads the 60 minute rows of every edge instead.
  const pastHour = () => queries.findServiceGraph({ pool, from: new Date(now - 65 * 60_000), to: new Date(now - 5 * 60_000), now: new Date(now) });
  const pastHourMs = await measure("topology.graph, an hour ending 5 min ago", pastHour, 2, 10);
  // The last 15 minutes, as an SRE first looks during an incident: the minute rollups, 16 rows per edge.
  const quarter = () => queries.findServiceGraph({ pool, windowSeconds: 900, now: new Date(now) });
  const quarterMs = await measure("topology.graph 15 min", quarter, 2, 10);
  const traceMs = await measure("traces.get", traceGet, WARMUP.traceGet);
  return {
    graphP50: graphMs.p50,
    graphP95: graphMs.p95,
    traceGetP50: traceMs.p50,
    traceGetP95: traceMs.p95,
    pastHourGraphP50: pastHourMs.p50,
    pastHourGraphP95: pastHourMs.p95,
    quarterGraphP50: quarterMs.p50,
    quarterGraphP95: quarterMs.p95,
    seedSeconds: Math.round(seedRollupSeconds + seedSpansSeconds),
    seedSpansSeconds: Math.round(seedSpansSeconds),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const spans = args.includes("--spans") ? Number(args[args.indexOf("--spans") + 1]) : undefined;
  const [{ connectDatabase, migrate }, { freshDatabase }] = await Promise.all([loadTs("../../packages/db/src/index.ts"), loadTs("../control-plane/environment.ts")]);
  const log = (line) => console.log(`[bench queries] ${line}`);
  const workDir = mkdtempSync(join(tmpdir(), "trellis-bench-queries-"));
  chmodSync(workDir, 0o755); // as root, the embedded Postgres runs as `postgres` and must reach its data directory
  const cleanups = [() => rmSync(workDir, { recursive: true, force: true })];
  try {
    const db = await connectDatabase({ url: await freshDatabase(workDir, cleanups, log), source: "the benchmark database" });
    cleanups.push(() => db.close());
    await migrate({ pool: db.pool });
    console.log(JSON.stringify(await benchQueries({ pool: db.pool, log, spans }), null, 2));
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
