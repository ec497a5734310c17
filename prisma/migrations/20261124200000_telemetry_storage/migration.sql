-- Telemetry storage built for volume (issue 5): every telemetry table is range-partitioned by UTC day on its time
-- column (partitions are named <table>_pYYYYMMDD, created ahead by ingest and dropped for retention), and every
-- primary key is a natural key of what was received, so a retried OTLP batch stores nothing twice.

-- Spans: the earlier unpartitioned table is replaced; its rows move into daily partitions.
ALTER TABLE "spans" RENAME TO "spans_unpartitioned";
ALTER TABLE "spans_unpartitioned" RENAME CONSTRAINT "spans_pkey" TO "spans_unpartitioned_pkey";
DROP INDEX "spans_start_time_idx";
DROP INDEX "spans_service_name_start_time_idx";
DROP INDEX IF EXISTS "spans_parent_span_id_idx";

CREATE TABLE "spans" (
    "trace_id" CHAR(32) NOT NULL,
    "span_id" CHAR(16) NOT NULL,
    "parent_span_id" CHAR(16),
    "service_name" TEXT NOT NULL,
    "service_namespace" TEXT,
    "service_version" TEXT,
    "scope_name" TEXT,
    "name" TEXT NOT NULL,
    "kind" SMALLINT NOT NULL,
    "start_time" TIMESTAMPTZ(6) NOT NULL,
    "duration_ns" BIGINT NOT NULL,
    "status_code" SMALLINT NOT NULL,
    "status_message" TEXT,
    "http_status_code" INTEGER,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "resource_attributes" JSONB NOT NULL DEFAULT '{}',
    "events" JSONB NOT NULL DEFAULT '[]',
    "links" JSONB NOT NULL DEFAULT '[]',
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "spans_pkey" PRIMARY KEY ("trace_id","span_id","start_time")
) PARTITION BY RANGE ("start_time");

CREATE INDEX "spans_service_name_start_time_idx" ON "spans"("service_name", "start_time");

-- One row per trace and UTC day of its spans (a trace running across midnight has two): what traces.search filters
-- on — the trace's own start, end (so its duration), services and operations — kept as spans arrive.
CREATE TABLE "traces" (
    "trace_id" CHAR(32) NOT NULL,
    "day" DATE NOT NULL,
    "start_time" TIMESTAMPTZ(6) NOT NULL,
    "end_time" TIMESTAMPTZ(6) NOT NULL,
    "span_count" INTEGER NOT NULL,
    "error_count" INTEGER NOT NULL,
    "root_service" TEXT,
    "root_name" TEXT,
    "services" TEXT[],
    "operations" TEXT[],

    CONSTRAINT "traces_pkey" PRIMARY KEY ("trace_id","day")
) PARTITION BY RANGE ("day");

CREATE INDEX "traces_start_time_idx" ON "traces"("start_time");
CREATE INDEX "traces_services_idx" ON "traces" USING GIN ("services");

-- OTLP log records; access-log records (Istio's field names, from Trellis sidecars or Envoy) also fill the columns
-- logs.search filters on. record_id is a digest of the record's content, so a resent record is stored once.
CREATE TABLE "log_records" (
    "record_id" UUID NOT NULL,
    "time" TIMESTAMPTZ(6) NOT NULL,
    "observed_time" TIMESTAMPTZ(6) NOT NULL,
    "service_name" TEXT NOT NULL,
    "service_namespace" TEXT,
    "service_version" TEXT,
    "severity_number" SMALLINT NOT NULL,
    "severity_text" TEXT,
    "body" TEXT,
    "trace_id" CHAR(32),
    "span_id" CHAR(16),
    "reporter" TEXT,
    "method" TEXT,
    "path" TEXT,
    "protocol" TEXT,
    "response_code" INTEGER,
    "response_flags" TEXT,
    "duration_ms" DOUBLE PRECISION,
    "bytes_received" BIGINT,
    "bytes_sent" BIGINT,
    "authority" TEXT,
    "upstream_host" TEXT,
    "upstream_cluster" TEXT,
    "request_id" TEXT,
    "attempt_count" INTEGER,
    "source_workload" TEXT,
    "destination_workload" TEXT,
    "destination_service" TEXT,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "resource_attributes" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "log_records_pkey" PRIMARY KEY ("record_id","time")
) PARTITION BY RANGE ("time");

CREATE INDEX "log_records_time_idx" ON "log_records"("time");
CREATE INDEX "log_records_service_name_time_idx" ON "log_records"("service_name", "time");

-- A metric time series: name, kind and the full identity (resource + point attributes) behind series_id. For
-- cumulative series, the last point seen is kept here so that each new point becomes a delta for the RED rollups.
CREATE TABLE "metric_series" (
    "series_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "unit" TEXT NOT NULL,
    "temporality" TEXT NOT NULL,
    "service_name" TEXT NOT NULL,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "resource_attributes" JSONB NOT NULL DEFAULT '{}',
    "first_seen" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_start_time" TIMESTAMPTZ(6),
    "last_time" TIMESTAMPTZ(6),
    "last_count" DOUBLE PRECISION,
    "last_sum" DOUBLE PRECISION,
    "last_bucket_counts" DOUBLE PRECISION[],

    CONSTRAINT "metric_series_pkey" PRIMARY KEY ("series_id")
);

CREATE INDEX "metric_series_name_idx" ON "metric_series"("name");

-- One data point of a series, as received (gauges and sums in value; histograms and summaries in count/sum/min/max
-- and explicit buckets).
CREATE TABLE "metric_points" (
    "series_id" UUID NOT NULL,
    "time" TIMESTAMPTZ(6) NOT NULL,
    "start_time" TIMESTAMPTZ(6),
    "value" DOUBLE PRECISION,
    "count" DOUBLE PRECISION,
    "sum" DOUBLE PRECISION,
    "min" DOUBLE PRECISION,
    "max" DOUBLE PRECISION,
    "bounds" DOUBLE PRECISION[],
    "bucket_counts" DOUBLE PRECISION[],

    CONSTRAINT "metric_points_pkey" PRIMARY KEY ("series_id","time")
) PARTITION BY RANGE ("time");

CREATE INDEX "metric_points_time_idx" ON "metric_points"("time");

-- RED rollups, one table per bucket width (10 s and 1 min), kept as data arrives: requests, errors, mTLS share and
-- a mergeable latency histogram (packages/db/src/telemetry/latency-histogram.ts) per edge, versions, protocol and
-- response class.
CREATE TABLE "red_10s" (
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "source_namespace" TEXT NOT NULL,
    "source_service" TEXT NOT NULL,
    "source_workload" TEXT NOT NULL,
    "source_version" TEXT NOT NULL,
    "destination_namespace" TEXT NOT NULL,
    "destination_service" TEXT NOT NULL,
    "destination_workload" TEXT NOT NULL,
    "destination_version" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "response_class" TEXT NOT NULL,
    "requests" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "mtls_requests" BIGINT NOT NULL,
    "duration_sum_ms" DOUBLE PRECISION NOT NULL,
    "duration_histogram" INTEGER[],

    CONSTRAINT "red_10s_pkey" PRIMARY KEY ("bucket","source_namespace","source_service","source_workload","source_version","destination_namespace","destination_service","destination_workload","destination_version","protocol","response_class")
) PARTITION BY RANGE ("bucket");

CREATE TABLE "red_1m" (LIKE "red_10s" INCLUDING DEFAULTS) PARTITION BY RANGE ("bucket");
ALTER TABLE "red_1m" ADD CONSTRAINT "red_1m_pkey" PRIMARY KEY ("bucket","source_namespace","source_service","source_workload","source_version","destination_namespace","destination_service","destination_workload","destination_version","protocol","response_class");

-- Move the spans stored so far into daily partitions of the new table.
DO $$
DECLARE
    d DATE;
BEGIN
    FOR d IN SELECT DISTINCT (start_time AT TIME ZONE 'UTC')::date FROM "spans_unpartitioned" LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF "spans" FOR VALUES FROM (%L) TO (%L)',
            'spans_p' || to_char(d, 'YYYYMMDD'),
            (d::timestamp AT TIME ZONE 'UTC'),
            ((d + 1)::timestamp AT TIME ZONE 'UTC')
        );
        EXECUTE format('CREATE TABLE %I PARTITION OF "traces" FOR VALUES FROM (%L) TO (%L)', 'traces_p' || to_char(d, 'YYYYMMDD'), d, d + 1);
    END LOOP;
END $$;

INSERT INTO "spans" ("trace_id", "span_id", "parent_span_id", "service_name", "service_namespace", "service_version", "name",
    "kind", "start_time", "duration_ns", "status_code", "status_message", "http_status_code", "attributes",
    "resource_attributes", "events", "received_at")
SELECT "trace_id", "span_id", "parent_span_id", "service_name", "service_namespace", "service_version", "name",
    "kind", "start_time", "duration_ns", "status_code", "status_message", "http_status_code", "attributes",
    "resource_attributes", "events", "received_at"
FROM "spans_unpartitioned";

INSERT INTO "traces" ("trace_id", "day", "start_time", "end_time", "span_count", "error_count", "root_service", "root_name", "services", "operations")
SELECT "trace_id", (start_time AT TIME ZONE 'UTC')::date, min("start_time"),
    max("start_time" + make_interval(secs => "duration_ns" / 1e9)), count(*)::int, count(*) FILTER (WHERE "status_code" = 2)::int,
    min("service_name") FILTER (WHERE "parent_span_id" IS NULL), min("name") FILTER (WHERE "parent_span_id" IS NULL),
    array_agg(DISTINCT "service_name"), array_agg(DISTINCT "service_name" || E'\x1f' || "name")
FROM "spans_unpartitioned"
GROUP BY "trace_id", (start_time AT TIME ZONE 'UTC')::date;

DROP TABLE "spans_unpartitioned";
