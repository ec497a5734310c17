// One OTLP log record as ingest stores it (access-log records carry Envoy's fields in `attributes`).
import type { AttributeValue, Attributes } from "../span-record.ts";

export type LogEntry = {
  serviceName: string;
  serviceNamespace: string | null;
  serviceVersion: string | null;
  resourceAttributes: Attributes;
  scopeName: string;
  /** When the event happened; the observed time when the sender left it unset (as the OTLP spec says to). */
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** 0 (unspecified) … 24 (FATAL4). */
  severityNumber: number;
  severityText: string | null;
  body: AttributeValue;
  attributes: Attributes;
  traceId: string | null;
  spanId: string | null;
  eventName: string | null;
};

export type DecodedLogs = { logs: LogEntry[]; rejectedLogRecords: number; errors: string[] };
