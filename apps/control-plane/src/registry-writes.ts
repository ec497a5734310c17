// The registry's durable record (the workloads rows that REST, the CLI and the dashboard read), written in batches:
// a push round and its ACKs change hundreds of rows within milliseconds, and one statement per flush instead of one
// Prisma update per change keeps that off the push path. Changes coalesce per workload and flushes run one at a time,
// so a row only ever moves forward.
import type { Database } from "@trellis/db";
import type { NodeInfo } from "@trellis/mesh-config";

/** How long a change may wait for the next flush: the rows trail the registry by at most about this much. */
export const FLUSH_INTERVAL_MS = 50;
/** After a failed flush (database unreachable), the next attempt waits this long. */
const RETRY_MS = 1_000;

/** A workload's session state as its row shows it. */
export type WorkloadState = {
  /** The last version pushed to it; null leaves the stored one (the generation is restored from its maximum). */
  configVersion: number | null;
  ackedVersion: number | null;
  lastError: string | null;
  connected: boolean;
  lastSeenAt: Date;
};

export type RegistryWrites = {
  /** The workload (re)registered: its whole row, with its session state starting over. */
  register: (node: NodeInfo, at: Date) => void;
  /** The workload's current session state, replacing any not yet written. */
  update: (id: string, state: WorkloadState) => void;
  /** Writes everything queued so far; resolves once it reached the database (or failed and was logged). */
  flush: () => Promise<void>;
  /** Stops the timers; what is still queued is written by a last flush() only. */
  stop: () => void;
};

type Entry = { registration: { node: NodeInfo; at: Date } | null; state: WorkloadState };

export function createRegistryWrites({
  pool,
  log = console,
  intervalMs = FLUSH_INTERVAL_MS,
}: {
  pool: Database["pool"];
  log?: Pick<Console, "error">;
  intervalMs?: number;
}): RegistryWrites {
  let pending = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let stopped = false;

  const enqueue = (id: string, entry: Entry) => {
    pending.set(id, merge(pending.get(id), entry));
    if (!stopped) timer ??= setTimeout(flush, intervalMs);
  };

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    // One flush at a time, each taking what is pending when it starts: later state never lands before earlier.
    writing = writing.then(async () => {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      try {
        await writeBatch(pool, batch);
      } catch (error) {
        log.error(`control-plane: could not persist ${batch.size} workload row(s), retrying in ${RETRY_MS} ms: ${(error as Error).message}`);
        // Newer changes queued meanwhile win over the failed batch's.
        for (const [id, entry] of batch) pending.set(id, merge(entry, pending.get(id) ?? entry));
        if (!stopped) timer ??= setTimeout(flush, RETRY_MS);
      }
    });
    return writing;
  }

  return {
    register: (node, at) =>
      enqueue(node.id, { registration: { node, at }, state: { configVersion: null, ackedVersion: null, lastError: null, connected: true, lastSeenAt: at } }),
    update: (id, state) => enqueue(id, { registration: null, state }),
    flush,
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** `newer` over `older`: a registration not yet written is kept, and so is a pushed version the newer state lacks. */
function merge(older: Entry | undefined, newer: Entry): Entry {
  if (older === undefined || older === newer) return newer;
  return {
    registration: newer.registration ?? older.registration,
    state: { ...newer.state, configVersion: newer.state.configVersion ?? older.state.configVersion },
  };
}

const INSERT_SERVICES = `INSERT INTO services (id, namespace, name)
SELECT gen_random_uuid(), s.namespace, s.name FROM unnest($1::text[], $2::text[]) AS s(namespace, name)
ON CONFLICT (namespace, name) DO NOTHING`;

const UPSERT_WORKLOADS = `INSERT INTO workloads AS w (id, service_id, version, labels, mode, address, inbound_url, admin_url,
  connected, config_version, acked_version, last_error, registered_at, last_seen_at)
SELECT v.id, s.id, v.version, v.labels, v.mode, v.address, v.inbound_url, v.admin_url,
  v.connected, v.config_version, v.acked_version, v.last_error, v.registered_at, v.last_seen_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::text[], $9::text[],
  $10::bool[], $11::int4[], $12::int4[], $13::text[], $14::timestamptz[], $15::timestamptz[])
  AS v(id, namespace, service, version, labels, mode, address, inbound_url, admin_url,
    connected, config_version, acked_version, last_error, registered_at, last_seen_at)
JOIN services s ON s.namespace = v.namespace AND s.name = v.service
ON CONFLICT (id) DO UPDATE SET service_id = EXCLUDED.service_id, version = EXCLUDED.version, labels = EXCLUDED.labels,
  mode = EXCLUDED.mode, address = EXCLUDED.address, inbound_url = EXCLUDED.inbound_url, admin_url = EXCLUDED.admin_url,
  connected = EXCLUDED.connected, config_version = COALESCE(EXCLUDED.config_version, w.config_version),
  acked_version = EXCLUDED.acked_version, last_error = EXCLUDED.last_error, registered_at = EXCLUDED.registered_at,
  last_seen_at = EXCLUDED.last_seen_at`;

const UPDATE_WORKLOADS = `UPDATE workloads AS w SET connected = v.connected,
  config_version = COALESCE(v.config_version, w.config_version), acked_version = v.acked_version,
  last_error = v.last_error, last_seen_at = v.last_seen_at
FROM unnest($1::text[], $2::bool[], $3::int4[], $4::int4[], $5::text[], $6::timestamptz[])
  AS v(id, connected, config_version, acked_version, last_error, last_seen_at)
WHERE w.id = v.id`;

async function writeBatch(pool: Database["pool"], batch: Map<string, Entry>): Promise<void> {
  const registered: Array<[NodeInfo, Date, WorkloadState]> = [];
  const updated: Array<[string, WorkloadState]> = [];
  for (const [id, { registration, state }] of batch) {
    if (registration === null) updated.push([id, state]);
    else registered.push([registration.node, registration.at, state]);
  }
  if (registered.length > 0) {
    const services = new Map(registered.map(([node]) => [`${node.namespace}/${node.service}`, node]));
    await pool.query(INSERT_SERVICES, [[...services.values()].map((n) => n.namespace), [...services.values()].map((n) => n.service)]);
    await pool.query(UPSERT_WORKLOADS, [
      registered.map(([n]) => n.id),
      registered.map(([n]) => n.namespace),
      registered.map(([n]) => n.service),
      registered.map(([n]) => n.version),
      registered.map(([n]) => JSON.stringify(n.labels)),
      registered.map(([n]) => n.mode),
      registered.map(([n]) => n.address),
      registered.map(([n]) => n.inboundUrl),
      registered.map(([n]) => n.adminUrl),
      registered.map(([, , s]) => s.connected),
      registered.map(([, , s]) => s.configVersion),
      registered.map(([, , s]) => s.ackedVersion),
      registered.map(([, , s]) => s.lastError),
      registered.map(([, at]) => at),
      registered.map(([, , s]) => s.lastSeenAt),
    ]);
  }
  if (updated.length > 0) {
    await pool.query(UPDATE_WORKLOADS, [
      updated.map(([id]) => id),
      updated.map(([, s]) => s.connected),
      updated.map(([, s]) => s.configVersion),
      updated.map(([, s]) => s.ackedVersion),
      updated.map(([, s]) => s.lastError),
      updated.map(([, s]) => s.lastSeenAt),
    ]);
  }
}
