-- The service graph's most asked-for window, the last hour, kept as one row per edge: the sum of red_1m's rows
-- from red_window_state.from_minute on. Writers add what they add to red_1m (for minutes inside the window); ingest
-- slides the window every second, subtracting the minutes that leave it. topology.graph over one hour then reads
-- one row per edge instead of sixty.
CREATE TABLE "red_last_hour" (
    "source_namespace" TEXT NOT NULL,
    "source_service" TEXT NOT NULL,
    "source_version" TEXT NOT NULL,
    "destination_namespace" TEXT NOT NULL,
    "destination_service" TEXT NOT NULL,
    "destination_version" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "requests" BIGINT NOT NULL,
    "errors" BIGINT NOT NULL,
    "mtls_requests" BIGINT NOT NULL,
    "duration_sum_ms" DOUBLE PRECISION NOT NULL,
    "duration_histogram" INTEGER[],

    CONSTRAINT "red_last_hour_pkey" PRIMARY KEY ("source_namespace","source_service","source_version","destination_namespace","destination_service","destination_version","protocol")
);

-- Where a sliding window starts (null until ingest first builds it).
CREATE TABLE "red_window_state" (
    "name" TEXT NOT NULL,
    "from_minute" TIMESTAMPTZ(3),

    CONSTRAINT "red_window_state_pkey" PRIMARY KEY ("name")
);

INSERT INTO "red_window_state" ("name", "from_minute") VALUES ('last_hour', NULL);
